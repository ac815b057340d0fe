/*
 * config_source.h - where instance configs come from (instance-lookup.md
 * "Fetch from Config Service"), through libcurl.
 *
 * ROOST_CONFIG_SOURCE is a base URL:
 *   http://host:port/base or https://...   GET {base}/{collection}/{id}
 *       with headers X-User-ID and X-Request-ID, the configured timeout,
 *       redirects not followed, the body capped at ROOST_CONFIG_RESPONSE_MAX;
 *   file:///etc/roost                        the file {base}/{collection}/{id}.json
 *       (the same paths as JSON files: a sysadmin needs no service).
 * collection is "instances", "projects" or "users".
 *
 *   struct roost_config_source *src = NULL;
 *   err = roost_config_source_open(url, timeout_ms, &src);     // at start-up
 *   err = roost_config_source_fetch(src, "instances", id, user, reqid, &doc, &detail);
 *   roost_config_source_close(src);
 *
 * A source is used by one process, one request at a time (the curl handle
 * is reused between requests for its connection cache).
 */
#ifndef ROOST_CONFIG_SOURCE_H
#define ROOST_CONFIG_SOURCE_H

#include "buf.h"
#include "error.h"

struct json_object;
struct roost_config_source;

/* Largest config document accepted from a source: configs are small; a
 * bigger answer is a misconfigured or hostile source. */
#define ROOST_CONFIG_RESPONSE_MAX (1024 * 1024)

/* Checks url's scheme and shape and prepares the source. Does no network
 * I/O; a file:// directory must exist, be a directory and be searchable
 * (checked here, so a wrong path is reported at start-up).
 * Errors: MISCONFIGURED (detail says why: unsupported scheme, not absolute,
 * file:// not a directory path ...). */
enum roost_err roost_config_source_open(const char *url, long timeout_ms,
                                        struct roost_config_source **out, struct roost_buf *detail);
void roost_config_source_close(struct roost_config_source *src);

/* Fetches {base}/{collection}/{id}. id must be a valid instance-style id
 * (it becomes a path segment). user_id and request_id are sent as headers
 * (user_id omitted when empty). On OK *out (must be NULL) is a new
 * reference to the parsed JSON object.
 * Errors: CONFIG_NOT_FOUND (404, or no such file), CONFIG_SERVICE_UNAVAILABLE
 * (connection refused, timeout, 5xx or any other status, body too large,
 * not a JSON object), USAGE (unknown collection, an id outside the id
 * syntax or "." / "..", header values with control characters); detail
 * says what happened, for the log. */
enum roost_err roost_config_source_fetch(struct roost_config_source *src, const char *collection,
                                         struct roost_slice id, struct roost_slice user_id,
                                         struct roost_slice request_id, struct json_object **out,
                                         struct roost_buf *detail);

/* The base URL, for log lines. */
const char *roost_config_source_url(const struct roost_config_source *src);

#endif
