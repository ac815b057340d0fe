/*
 * error.h - the closed set of errors every roost function returns.
 *
 * One X-macro table gives each error its enum name, the stable `code`
 * string clients see, the HTTP status it maps to and a default message.
 * Only enum values travel between modules; the strings come from here,
 * so nobody compares message text.
 *
 *   enum roost_err err = roost_kv_get(...);
 *   if (err) respond_error(err);   // status, code and message from the table
 */
#ifndef ROOST_ERROR_H
#define ROOST_ERROR_H

/* X(name, code string, HTTP status, default message) */
#define ROOST_ERR_MAP(X) \
    X(OK,                    "OK",                    200, "ok") \
    X(INTERNAL,              "INTERNAL_ERROR",        500, "internal error") \
    X(MISCONFIGURED,         "SERVER_MISCONFIGURED",  500, "server misconfigured; see the error log") \
    X(NOT_FOUND,             "NOT_FOUND",             404, "no such endpoint") \
    X(METHOD_NOT_ALLOWED,    "METHOD_NOT_ALLOWED",    405, "method not allowed on this endpoint") \
    X(MISSING_INSTANCE_ID,   "MISSING_INSTANCE_ID",   400, "instance ID is required") \
    X(INVALID_INSTANCE_ID,   "INVALID_INSTANCE_ID",   400, "instance ID must be 1-64 characters of A-Z a-z 0-9 . _ -") \
    X(INSTANCE_NOT_FOUND,    "INSTANCE_NOT_FOUND",    404, "instance not found") \
    X(INSTANCE_INACTIVE,     "INSTANCE_INACTIVE",     503, "instance is inactive") \
    X(INSTANCE_PAUSED,       "INSTANCE_PAUSED",       503, "instance is paused") \
    X(INSTANCE_DELETING,     "INSTANCE_DELETING",     410, "instance is being deleted") \
    X(INSTANCE_EXISTS,       "INSTANCE_EXISTS",       409, "an instance with this id exists already") \
    X(INVALID_STATUS,        "INVALID_STATUS",        400, "status must be one of active, inactive, paused, migrating, deleting") \
    X(ADMIN_DISABLED,        "ADMIN_DISABLED",        403, "the admin API is disabled; set ROOST_ADMIN_TOKEN or ROOST_ADMIN_USERS in bin-environment of lighttpd.conf") \
    X(UNAUTHORIZED,          "UNAUTHORIZED",          401, "admin credentials required: Authorization: Bearer <token>, or a user listed in ROOST_ADMIN_USERS") \
    X(FORBIDDEN,             "FORBIDDEN",             403, "this user may not use the admin API") \
    X(INVALID_CURSOR,        "INVALID_CURSOR",        400, "cursor is not one this server handed out") \
    X(INVALID_CONTEXT,       "INVALID_CONTEXT",       400, "invalid request context: no instance could be determined") \
    X(INVALID_USER,          "INVALID_USER",          400, "user name must be at most 256 bytes of UTF-8 without control characters") \
    X(INVALID_PROJECT_ID,    "INVALID_PROJECT_ID",    400, "project ID must be 1-64 characters of A-Z a-z 0-9 . _ -") \
    X(AUTHENTICATION_REQUIRED, "AUTHENTICATION_REQUIRED", 401, "authentication required") \
    X(ACCESS_DENIED,         "ACCESS_DENIED",         403, "access denied") \
    X(CONFIG_NOT_FOUND,      "NOT_FOUND",             404, "not found at the config source") \
    X(CONFIG_SERVICE_UNAVAILABLE, "CONFIG_SERVICE_UNAVAILABLE", 503, "service temporarily unavailable: the config source cannot be reached") \
    X(INVALID_KEY,           "INVALID_KEY",           400, "key must be 1-512 bytes of UTF-8 without control characters") \
    X(KEY_NOT_FOUND,         "KEY_NOT_FOUND",         404, "key not found") \
    X(VALUE_TOO_LARGE,       "VALUE_TOO_LARGE",       413, "value is larger than the configured maximum") \
    X(REQUEST_TOO_LARGE,     "REQUEST_TOO_LARGE",     413, "request body is larger than the configured maximum") \
    X(INCOMPLETE_BODY,       "INCOMPLETE_BODY",       400, "request body ended before its Content-Length") \
    X(INVALID_CONTENT_TYPE,  "INVALID_CONTENT_TYPE",  400, "Content-Type is too long or has control characters") \
    X(INVALID_JSON,          "INVALID_JSON",          400, "request body is not valid JSON") \
    X(INVALID_REQUEST,       "INVALID_REQUEST",       400, "request body has the wrong shape") \
    X(BATCH_TOO_LARGE,       "BATCH_TOO_LARGE",       400, "too many keys in one batch") \
    X(BATCH_RESPONSE_TOO_LARGE, "BATCH_RESPONSE_TOO_LARGE", 413, "the values asked for exceed the batch response limit") \
    X(STORE_UNAVAILABLE,     "STORE_UNAVAILABLE",     503, "the store cannot be opened") \
    X(STORE_CORRUPT,         "STORE_CORRUPT",         500, "the store is damaged and could not be repaired") \
    X(STORE_IO,              "STORE_ERROR",           500, "the store failed to read or write") \
    X(STORE_EXISTS,          "ALREADY_EXISTS",        409, "the entry exists already") \
    X(STORE_TOO_BIG,         "STORE_LIMIT",           413, "the entry is larger than the store accepts") \
    X(USAGE,                 "INTERNAL_ERROR",        500, "internal usage error")

enum roost_err {
#define ROOST_ERR_ENUM(name, code, status, msg) ROOST_ERR_##name,
    ROOST_ERR_MAP(ROOST_ERR_ENUM)
#undef ROOST_ERR_ENUM
    ROOST_ERR__COUNT
};
#define ROOST_OK ROOST_ERR_OK

/* Stable UPPER_SNAKE code sent to clients. Never NULL. */
const char *roost_err_code(enum roost_err err);
/* HTTP status the error maps to. */
int roost_err_status(enum roost_err err);
/* Default human message (lowercase, no full stop). Never NULL. */
const char *roost_err_message(enum roost_err err);
/* Enum name, e.g. "STORE_IO", for log lines and test output. */
const char *roost_err_name(enum roost_err err);

/* Writes one sentence saying why into detail (when not NULL) and returns
 * err, so validators can `return roost_err_detail(ERR, detail, "...")`. */
struct roost_buf;
enum roost_err roost_err_detail(enum roost_err err, struct roost_buf *detail, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
