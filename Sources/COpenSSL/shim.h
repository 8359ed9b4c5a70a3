#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/pem.h>

/* Function-like macros Swift cannot import, as functions. */
static inline int evctl_ssl_ctx_set_versions(SSL_CTX *ctx) {
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) return 0;
  return SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
}
static inline void evctl_ssl_ctx_harden(SSL_CTX *ctx) {
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                           SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_TICKET);
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                        SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
}
static inline long evctl_ssl_get_version_number(const SSL *ssl) { return SSL_version(ssl); }

/* X.509 for evctl's certificate authority (EvctlCore/Certificates): macros and the few
   multi-step OpenSSL sequences Swift cannot call directly. */
#include <openssl/bn.h>
#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <string.h>
#include <time.h>

/* A new key: RSA of `rsa_bits` bits, or EC on `curve` ("P-256", "P-384") when rsa_bits is 0. */
static inline EVP_PKEY *evctl_key_generate(int rsa_bits, const char *curve) {
  if (rsa_bits > 0) return EVP_RSA_gen((unsigned int)rsa_bits);
  return EVP_EC_gen(curve);
}

/* The bytes a memory BIO holds. */
static inline long evctl_bio_data(BIO *bio, char **data) { return BIO_get_mem_data(bio, data); }

static inline void evctl_free(void *pointer) { OPENSSL_free(pointer); }

/* The key's curve name ("prime256v1" etc.) into `out`, or "" for a non-EC key. */
static inline void evctl_key_curve(EVP_PKEY *key, char *out, size_t size) {
  size_t length = 0;
  out[0] = 0;
  if (EVP_PKEY_get_base_id(key) != EVP_PKEY_EC) return;
  if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, out, size, &length) != 1) out[0] = 0;
}

static inline int evctl_x509_add_ext(X509 *cert, X509V3_CTX *ctx, int nid, const char *value) {
  X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
  if (!ext) return 0;
  int ok = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  return ok;
}

/* Makes and signs a certificate for `subject_key` named `subject`, issued by `issuer` with
   `issuer_key` (both NULL/self for a self-signed root). `ca` makes a CA certificate (path length
   `path_len`, -1 for none); otherwise a TLS client certificate (station, security profile 3).
   Valid from 5 minutes ago for `days` days. Returns NULL on failure. */
static inline X509 *evctl_x509_issue(X509_NAME *subject, EVP_PKEY *subject_key, X509 *issuer,
                                     EVP_PKEY *issuer_key, const unsigned char *serial, int serial_length,
                                     long days, int ca, int path_len) {
  X509 *cert = X509_new();
  if (!cert) return NULL;
  int ok = X509_set_version(cert, 2);
  BIGNUM *number = BN_bin2bn(serial, serial_length, NULL);
  ok = ok && number && BN_to_ASN1_INTEGER(number, X509_get_serialNumber(cert)) != NULL;
  BN_free(number);
  ok = ok && X509_gmtime_adj(X509_getm_notBefore(cert), -300) != NULL;
  ok = ok && X509_time_adj_ex(X509_getm_notAfter(cert), (int)days, 0, NULL) != NULL;
  ok = ok && X509_set_subject_name(cert, subject);
  ok = ok && X509_set_issuer_name(cert, issuer ? X509_get_subject_name(issuer) : subject);
  ok = ok && X509_set_pubkey(cert, subject_key);
  X509V3_CTX context;
  X509V3_set_ctx_nodb(&context);
  X509V3_set_ctx(&context, issuer ? issuer : cert, cert, NULL, NULL, 0);
  if (ca) {
    char constraints[64];
    if (path_len >= 0) snprintf(constraints, sizeof constraints, "critical,CA:TRUE,pathlen:%d", path_len);
    else snprintf(constraints, sizeof constraints, "critical,CA:TRUE");
    ok = ok && evctl_x509_add_ext(cert, &context, NID_basic_constraints, constraints);
    ok = ok && evctl_x509_add_ext(cert, &context, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    int rsa = EVP_PKEY_get_base_id(subject_key) == EVP_PKEY_RSA;
    ok = ok && evctl_x509_add_ext(cert, &context, NID_basic_constraints, "critical,CA:FALSE");
    ok = ok && evctl_x509_add_ext(cert, &context, NID_key_usage,
                                  rsa ? "critical,digitalSignature,keyEncipherment"
                                      : "critical,digitalSignature,keyAgreement");
    ok = ok && evctl_x509_add_ext(cert, &context, NID_ext_key_usage, "clientAuth");
  }
  ok = ok && evctl_x509_add_ext(cert, &context, NID_subject_key_identifier, "hash");
  ok = ok && evctl_x509_add_ext(cert, &context, NID_authority_key_identifier, "keyid:always");
  ok = ok && X509_sign(cert, issuer_key ? issuer_key : subject_key, EVP_sha256()) > 0;
  if (!ok) {
    X509_free(cert);
    return NULL;
  }
  return cert;
}

/* Seconds since 1970 of an ASN1_TIME, or LONG_MIN. */
static inline long long evctl_asn1_time_seconds(const ASN1_TIME *time) {
  struct tm parts;
  memset(&parts, 0, sizeof parts);
  if (ASN1_TIME_to_tm(time, &parts) != 1) return -9223372036854775807LL;
  return (long long)timegm(&parts);
}
