/*
 * main.c - roost-fcgi: the FastCGI worker lighttpd spawns (bin-path).
 *
 * Start-up: settings from the environment (bad ones are logged once and
 * every request is refused with a JSON 500), the store opened once per
 * process, then the accept loop. SIGTERM or SIGINT (lighttpd stopping, or
 * Ctrl-C on ./dev.sh serve) ends the loop after the request in flight; the
 * store is then flushed and closed.
 */
#include "config.h"

#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "clock.h"
#include "fcgi_io.h"
#include "handlers.h"
#include "log.h"

static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    /* No SA_RESTART: accept() must return EINTR so the loop sees the flag. */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    /* A client that goes away must not kill the worker mid-request. */
    signal(SIGPIPE, SIG_IGN);
}

int main(void)
{
    install_signals();
    /* If lighttpd dies without stopping us (SIGKILL), do not linger as an
     * orphan holding the socket and the store open. */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() == 1)
        return 0;

    struct roost_app app;
    roost_app_init(&app, roost_clock_real);
    roost_log(ROOST_LOG_INFO, "worker", "started, store '%s'", app.settings.store_dir);
    int rc = roost_fcgi_run(&app, &stop_requested);
    roost_app_release(&app);
    roost_log(ROOST_LOG_INFO, "worker", "stopped");
    return rc == 0 ? 0 : 1;
}
