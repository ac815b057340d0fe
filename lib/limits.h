/*
 * limits.h - every bound roost enforces, in one place, each with its reason.
 * Settings (settings.h) may move some of them within the ranges given here.
 */
#ifndef ROOST_LIMITS_H
#define ROOST_LIMITS_H

/* DESIGN.md "API rules": instance ids are 1-64 bytes of [A-Za-z0-9._-].
 * 64 keeps an id printable in one log line and one byte of length prefix. */
#define ROOST_INSTANCE_ID_MAX 64

/* DESIGN.md "API rules": keys are 1-512 bytes of UTF-8. Small enough that a
 * batch of the largest allowed size stays well under a megabyte of JSON. */
#define ROOST_KEY_MAX 512

/* Stored Content-Type strings. Real media types with parameters fit in far
 * less; the bound keeps the per-value header to two length bytes. */
#define ROOST_CONTENT_TYPE_MAX 255

/* Values: default 1 MiB (DESIGN.md settings table). The ceiling keeps a
 * value and its header far below GDBM's int-sized datum and bounds the
 * memory a single request can make a worker hold. */
#define ROOST_VALUE_MAX_DEFAULT (1024 * 1024)
#define ROOST_VALUE_MAX_CEILING (64 * 1024 * 1024)

/* Keys per batch get: default 100 (spec issue), at most 10,000 so that one
 * request holds a shard lock for a bounded time. */
#define ROOST_BATCH_KEYS_DEFAULT 100
#define ROOST_BATCH_KEYS_CEILING 10000

/* Total value bytes one batch response may carry; past it the client gets
 * 413 BATCH_RESPONSE_TOO_LARGE instead of a worker buffering gigabytes. */
#define ROOST_BATCH_RESPONSE_MAX (32 * 1024 * 1024)

/* A batch body is JSON of at most BATCH_KEYS_CEILING keys of KEY_MAX bytes,
 * each escaped to at most 6 bytes per byte; anything longer is not a batch. */
#define ROOST_BATCH_BODY_MAX (ROOST_BATCH_KEYS_CEILING * (ROOST_KEY_MAX * 6 + 4) + 64)

/* JSON nesting accepted from clients. Our documents are two levels deep;
 * 16 leaves room and stops stack-depth attacks on the tokenizer. */
#define ROOST_JSON_DEPTH_MAX 16

/* Request headers we copy out of the FastCGI environment. */
#define ROOST_HEADER_VALUE_MAX 1024

/* Request URI length we route on; lighttpd's own limit is larger, but no
 * valid roost URI (512-byte key, fully percent-encoded) exceeds this. */
#define ROOST_URI_MAX 8192

/* The store: number of data shards (DESIGN.md "Store", point 1). Changing it
 * changes the on-disk layout, so it is part of the layout version. */
#define ROOST_STORE_SHARDS 16

/* Admin API bodies (instance fields): a record with full metadata
 * (64 entries of 64 + 1024 bytes) fits with room to spare. */
#define ROOST_ADMIN_BODY_MAX (256 * 1024)

/* Instances per page of GET /v1/admin/instances: default and ceiling. */
#define ROOST_ADMIN_LIST_DEFAULT 100
#define ROOST_ADMIN_LIST_MAX 1000

/* A user name (REMOTE_USER or the trusted header): it is sent on to the
 * config source as X-User-ID and written in log lines. */
#define ROOST_USER_MAX 256

/* ROOST_MODE: a short word reported by /health. */
#define ROOST_MODE_MAX 32

#endif
