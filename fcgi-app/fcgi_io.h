/*
 * fcgi_io.h - the only code that speaks FastCGI (libfcgi). It runs the
 * accept loop, turns each FastCGI request into a struct roost_http_request
 * (copying everything: FCGX_GetParam strings die at FCGX_Finish_r), hands
 * it to the application, and writes the struct roost_http_response back.
 */
#ifndef ROOST_FCGI_IO_H
#define ROOST_FCGI_IO_H

#include <signal.h>

struct roost_app;

/* Serves requests on the FastCGI listen socket lighttpd passed as fd 0
 * until *stop is set (by a signal handler) or accept fails. Returns 0 on a
 * clean stop, -1 when the socket could not be served. */
int roost_fcgi_run(struct roost_app *app, volatile sig_atomic_t *stop);

#endif
