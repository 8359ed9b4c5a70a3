// libcurl's easy API for serve's mail (SMTP/SMTPS); curl_easy_setopt is variadic, so each
// argument type gets a wrapper Swift can call. Not linked: CLoadOnUse defines the functions and
// loads libcurl.so.4 on first use.
#include <curl/curl.h>

static inline CURLcode evctl_curl_set_long(CURL *curl, CURLoption option, long value) {
  return curl_easy_setopt(curl, option, value);
}

static inline CURLcode evctl_curl_set_string(CURL *curl, CURLoption option, const char *value) {
  return curl_easy_setopt(curl, option, value);
}

static inline CURLcode evctl_curl_set_pointer(CURL *curl, CURLoption option, void *value) {
  return curl_easy_setopt(curl, option, value);
}

static inline CURLcode evctl_curl_set_list(CURL *curl, CURLoption option, struct curl_slist *value) {
  return curl_easy_setopt(curl, option, value);
}

typedef size_t (*evctl_curl_read_callback)(char *buffer, size_t size, size_t count, void *userdata);

static inline CURLcode evctl_curl_set_read_function(CURL *curl, evctl_curl_read_callback callback) {
  return curl_easy_setopt(curl, CURLOPT_READFUNCTION, callback);
}

static inline CURLcode evctl_curl_get_long(CURL *curl, CURLINFO info, long *value) {
  return curl_easy_getinfo(curl, info, value);
}
