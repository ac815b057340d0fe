/*
 * lean-fcgi.c - the benchmark's yardstick: a FastCGI responder that does
 * nothing, written as leanly as libfcgi allows (issue 7, DESIGN.md "Worker
 * loop and lighttpd"). Nothing on this stack can be faster than lighttpd
 * talking to this program, so roost's figures are given as a ratio to it.
 *
 * Per request: FCGX_Accept_r on a request set up once, stdin read to its
 * end (the body is thrown away), one FCGX_PutStr of a fixed response with
 * its headers (libfcgi sends it at FCGX_Finish_r), FCGX_Detach so that
 * FCGX_Finish_r closes the connection plainly instead of libfcgi's
 * lingering close (shutdown, poll up to 2 s for the peer, read, close).
 *
 * FCGX_Detach is only right on a unix socket and once stdin was read to
 * its end; the benchmark always runs it behind www-conf/roost-local.conf,
 * which gives the workers a unix socket. Not installed; not for production.
 */
#include <fcgiapp.h>
#include <signal.h>

/* 100 bytes of body: the size of a GET hit's value in the benchmark, so
 * that the yardstick moves about as many bytes as roost does. */
#define BODY "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" \
             "0123456789abcdefghijklmnopqrstuvwxyzAB"
static const char response[] =
    "Status: 200 OK\r\n"
    "Content-Type: application/octet-stream\r\n"
    "Content-Length: 100\r\n"
    "\r\n" BODY;

_Static_assert(sizeof(BODY) - 1 == 100, "the body is 100 bytes");

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    if (FCGX_Init() != 0)
        return 1;
    FCGX_Request r;
    if (FCGX_InitRequest(&r, 0, 0) != 0)
        return 1;
    static char sink[16384];
    while (FCGX_Accept_r(&r) >= 0) {
        while (FCGX_GetStr(sink, (int)sizeof(sink), r.in) > 0)
            ;
        FCGX_PutStr(response, (int)sizeof(response) - 1, r.out);
        FCGX_Detach(&r);
        FCGX_Finish_r(&r);
    }
    return 0;
}
