// A throwaway self-signed TLS certificate for 127.0.0.1 and localhost (EC P-256, valid for a day), written as PEM
// files, so that the service tests run over TLS like a deployment.
#pragma once
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <stdexcept>

namespace cryptounet::serve::testing {

inline void write_self_signed_certificate(const std::filesystem::path& certificate,
                                          const std::filesystem::path& private_key) {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"), EVP_PKEY_free);
  std::unique_ptr<X509, decltype(&X509_free)> x509(X509_new(), X509_free);
  if (!key || !x509) throw std::runtime_error("OpenSSL could not create a key or certificate");
  X509_set_version(x509.get(), 2);
  unsigned char serial[16];
  RAND_bytes(serial, sizeof serial);
  serial[0] &= 0x7f;
  std::unique_ptr<BIGNUM, decltype(&BN_free)> serial_bn(BN_bin2bn(serial, sizeof serial, nullptr), BN_free);
  BN_to_ASN1_INTEGER(serial_bn.get(), X509_get_serialNumber(x509.get()));
  X509_gmtime_adj(X509_getm_notBefore(x509.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x509.get()), 24 * 3600);
  X509_set_pubkey(x509.get(), key.get());
  auto* name = X509_get_subject_name(x509.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
  X509_set_issuer_name(x509.get(), name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, x509.get(), x509.get(), nullptr, nullptr, 0);
  for (const auto& [nid, value] : {std::pair{NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost"},
                                   std::pair{NID_basic_constraints, "critical,CA:TRUE"}}) {
    X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    if (!extension) throw std::runtime_error("OpenSSL could not build a certificate extension");
    X509_add_ext(x509.get(), extension, -1);
    X509_EXTENSION_free(extension);
  }
  if (X509_sign(x509.get(), key.get(), EVP_sha256()) == 0) throw std::runtime_error("OpenSSL could not sign");
  std::unique_ptr<FILE, decltype(&std::fclose)> cert_file(std::fopen(certificate.c_str(), "w"), std::fclose);
  std::unique_ptr<FILE, decltype(&std::fclose)> key_file(std::fopen(private_key.c_str(), "w"), std::fclose);
  if (!cert_file || !key_file) throw std::runtime_error("cannot write the test certificate");
  PEM_write_X509(cert_file.get(), x509.get());
  PEM_write_PrivateKey(key_file.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr);
}

}  // namespace cryptounet::serve::testing
