// Definitions of the libpq and libcurl functions evctl calls, each looking its real one up in
// the library (dlopen on first use) and calling it. The prototypes come from the libraries'
// own headers, so a definition that does not match its declaration does not compile. A function
// evctl starts to call needs one FORWARD line here (the link fails without it).
#define _GNU_SOURCE
#define CURL_DISABLE_TYPECHECK 1
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <curl/curl.h>
#include <postgresql/libpq-fe.h>
#include "load_on_use.h"

static void *loaded[3];
static const char *const names[3] = {NULL, "libpq.so.5", "libcurl.so.4"};

int evctl_load_on_use_loaded(int library) {
  return library > 0 && library < 3 && __atomic_load_n(&loaded[library], __ATOMIC_ACQUIRE) != NULL;
}

// The library's handle, loading it the first time. A library that cannot be loaded ends the
// process with the loader's reason: before this, the binary did not start at all without it.
static void *library(int which) {
  void *handle = __atomic_load_n(&loaded[which], __ATOMIC_ACQUIRE);
  if (handle) return handle;
  handle = dlopen(names[which], RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    fprintf(stderr, "evctl: cannot load %s: %s\n", names[which], dlerror());
    abort();
  }
  __atomic_store_n(&loaded[which], handle, __ATOMIC_RELEASE);
  return handle;
}

static void *symbol(int which, const char *name) {
  void *function = dlsym(library(which), name);
  if (!function) {
    fprintf(stderr, "evctl: %s has no %s\n", names[which], name);
    abort();
  }
  return function;
}

#define FORWARD(lib, ret, name, params, args)                                      \
  ret name params {                                                                \
    static __typeof__(&name) real;                                                 \
    __typeof__(&name) fn = __atomic_load_n(&real, __ATOMIC_ACQUIRE);               \
    if (!fn) {                                                                     \
      fn = (__typeof__(&name))symbol(lib, #name);                                  \
      __atomic_store_n(&real, fn, __ATOMIC_RELEASE);                               \
    }                                                                              \
    return fn args;                                                                \
  }
#define PQ 1
#define CURLLIB 2

// libpq: what PostgresConnection calls, and the asynchronous/notification calls a LISTEN loop needs.
FORWARD(PQ, PGconn *, PQconnectdbParams, (const char *const *keywords, const char *const *values, int expand_dbname), (keywords, values, expand_dbname))
FORWARD(PQ, PGconn *, PQconnectdb, (const char *conninfo), (conninfo))
FORWARD(PQ, void, PQfinish, (PGconn *conn), (conn))
FORWARD(PQ, ConnStatusType, PQstatus, (const PGconn *conn), (conn))
FORWARD(PQ, PGTransactionStatusType, PQtransactionStatus, (const PGconn *conn), (conn))
FORWARD(PQ, char *, PQerrorMessage, (const PGconn *conn), (conn))
FORWARD(PQ, int, PQserverVersion, (const PGconn *conn), (conn))
FORWARD(PQ, int, PQlibVersion, (void), ())
FORWARD(PQ, int, PQsocket, (const PGconn *conn), (conn))
FORWARD(PQ, int, PQbackendPID, (const PGconn *conn), (conn))
FORWARD(PQ, void, PQreset, (PGconn *conn), (conn))
FORWARD(PQ, PGresult *, PQexec, (PGconn *conn, const char *query), (conn, query))
FORWARD(PQ, PGresult *, PQexecParams, (PGconn *conn, const char *command, int nParams, const Oid *paramTypes, const char *const *paramValues, const int *paramLengths, const int *paramFormats, int resultFormat), (conn, command, nParams, paramTypes, paramValues, paramLengths, paramFormats, resultFormat))
FORWARD(PQ, PGresult *, PQprepare, (PGconn *conn, const char *stmtName, const char *query, int nParams, const Oid *paramTypes), (conn, stmtName, query, nParams, paramTypes))
FORWARD(PQ, PGresult *, PQexecPrepared, (PGconn *conn, const char *stmtName, int nParams, const char *const *paramValues, const int *paramLengths, const int *paramFormats, int resultFormat), (conn, stmtName, nParams, paramValues, paramLengths, paramFormats, resultFormat))
FORWARD(PQ, int, PQsendQuery, (PGconn *conn, const char *query), (conn, query))
FORWARD(PQ, int, PQsendQueryPrepared, (PGconn *conn, const char *stmtName, int nParams, const char *const *paramValues, const int *paramLengths, const int *paramFormats, int resultFormat), (conn, stmtName, nParams, paramValues, paramLengths, paramFormats, resultFormat))
FORWARD(PQ, int, PQsendQueryParams, (PGconn *conn, const char *command, int nParams, const Oid *paramTypes, const char *const *paramValues, const int *paramLengths, const int *paramFormats, int resultFormat), (conn, command, nParams, paramTypes, paramValues, paramLengths, paramFormats, resultFormat))
FORWARD(PQ, int, PQsetSingleRowMode, (PGconn *conn), (conn))
FORWARD(PQ, PGresult *, PQgetResult, (PGconn *conn), (conn))
FORWARD(PQ, int, PQconsumeInput, (PGconn *conn), (conn))
FORWARD(PQ, int, PQisBusy, (PGconn *conn), (conn))
FORWARD(PQ, int, PQsetnonblocking, (PGconn *conn, int arg), (conn, arg))
FORWARD(PQ, int, PQflush, (PGconn *conn), (conn))
FORWARD(PQ, PGnotify *, PQnotifies, (PGconn *conn), (conn))
FORWARD(PQ, void, PQfreemem, (void *ptr), (ptr))
FORWARD(PQ, void, PQclear, (PGresult *res), (res))
FORWARD(PQ, ExecStatusType, PQresultStatus, (const PGresult *res), (res))
FORWARD(PQ, char *, PQresultErrorMessage, (const PGresult *res), (res))
FORWARD(PQ, char *, PQresultErrorField, (const PGresult *res, int fieldcode), (res, fieldcode))
FORWARD(PQ, char *, PQcmdTuples, (PGresult *res), (res))
FORWARD(PQ, int, PQntuples, (const PGresult *res), (res))
FORWARD(PQ, int, PQnfields, (const PGresult *res), (res))
FORWARD(PQ, char *, PQfname, (const PGresult *res, int field_num), (res, field_num))
FORWARD(PQ, Oid, PQftype, (const PGresult *res, int field_num), (res, field_num))
FORWARD(PQ, char *, PQgetvalue, (const PGresult *res, int tup_num, int field_num), (res, tup_num, field_num))
FORWARD(PQ, int, PQgetisnull, (const PGresult *res, int tup_num, int field_num), (res, tup_num, field_num))
FORWARD(PQ, int, PQgetlength, (const PGresult *res, int tup_num, int field_num), (res, tup_num, field_num))
FORWARD(PQ, PGcancel *, PQgetCancel, (PGconn *conn), (conn))
FORWARD(PQ, void, PQfreeCancel, (PGcancel *cancel), (cancel))
FORWARD(PQ, int, PQcancel, (PGcancel *cancel, char *errbuf, int errbufsize), (cancel, errbuf, errbufsize))
FORWARD(PQ, char *, PQescapeLiteral, (PGconn *conn, const char *str, size_t len), (conn, str, len))
FORWARD(PQ, char *, PQescapeIdentifier, (PGconn *conn, const char *str, size_t len), (conn, str, len))
FORWARD(PQ, PGPing, PQping, (const char *conninfo), (conninfo))

// libcurl: serve's mail (SMTP/SMTPS).
FORWARD(CURLLIB, CURLcode, curl_global_init, (long flags), (flags))
FORWARD(CURLLIB, CURL *, curl_easy_init, (void), ())
FORWARD(CURLLIB, CURLcode, curl_easy_perform, (CURL *curl), (curl))
FORWARD(CURLLIB, void, curl_easy_cleanup, (CURL *curl), (curl))
FORWARD(CURLLIB, const char *, curl_easy_strerror, (CURLcode code), (code))
FORWARD(CURLLIB, struct curl_slist *, curl_slist_append, (struct curl_slist *list, const char *data), (list, data))
FORWARD(CURLLIB, void, curl_slist_free_all, (struct curl_slist *list), (list))

// The two variadic calls take one argument after the option; its type follows the option's
// number range (as in curl.h: long below 10,000, curl_off_t from 30,000, a pointer otherwise).
CURLcode curl_easy_setopt(CURL *curl, CURLoption option, ...) {
  static __typeof__(&curl_easy_setopt) real;
  __typeof__(&curl_easy_setopt) fn = __atomic_load_n(&real, __ATOMIC_ACQUIRE);
  if (!fn) {
    fn = (__typeof__(&curl_easy_setopt))symbol(CURLLIB, "curl_easy_setopt");
    __atomic_store_n(&real, fn, __ATOMIC_RELEASE);
  }
  va_list arguments;
  va_start(arguments, option);
  CURLcode result;
  if (option < CURLOPTTYPE_OBJECTPOINT) {
    long value = va_arg(arguments, long);
    result = fn(curl, option, value);
  } else if (option >= CURLOPTTYPE_OFF_T && option < CURLOPTTYPE_BLOB) {
    curl_off_t value = va_arg(arguments, curl_off_t);
    result = fn(curl, option, value);
  } else {
    void *value = va_arg(arguments, void *);
    result = fn(curl, option, value);
  }
  va_end(arguments);
  return result;
}

CURLcode curl_easy_getinfo(CURL *curl, CURLINFO info, ...) {
  static __typeof__(&curl_easy_getinfo) real;
  __typeof__(&curl_easy_getinfo) fn = __atomic_load_n(&real, __ATOMIC_ACQUIRE);
  if (!fn) {
    fn = (__typeof__(&curl_easy_getinfo))symbol(CURLLIB, "curl_easy_getinfo");
    __atomic_store_n(&real, fn, __ATOMIC_RELEASE);
  }
  va_list arguments;
  va_start(arguments, info);
  void *value = va_arg(arguments, void *);
  va_end(arguments);
  return fn(curl, info, value);
}
