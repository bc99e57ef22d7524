#ifndef JALM_CLIBCRYPTO_H
#define JALM_CLIBCRYPTO_H
// OpenSSL's libcrypto, for HMAC-SHA256 (webhook signatures) and SHA-256 (email Message-IDs) in notify-mq.
// libcurl (OpenSSL flavour) already loads libcrypto into that process, so this adds no library and no
// file the sandbox must open; libssl-dev provides the headers.
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#endif
