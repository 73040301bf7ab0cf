#!/usr/bin/env bash
# Makes a development certificate authority and certificates signed by it,
# for trying TLS locally and for the tests. Never use these in production:
# the CA key sits unencrypted next to the certificates.
#
#   scripts/gen-certs.sh [DIR] [NAME]
#
# DIR (default ./tls) receives, if they do not exist yet:
#   ca.crt ca.key           the CA (RSA 2048, 10 years), subject "CN=NAME CA"
#   server.crt server.key   server certificate for localhost / 127.0.0.1 / ::1
#   client.crt client.key   client certificate, CN=default (for mutual TLS)
# NAME (default "Cachet development") labels the CA, so two CAs made in two
# directories are told apart (rotation to a new CA).
# Existing files are kept: delete DIR to start over.
set -euo pipefail

dir=${1:-tls}
name=${2:-Cachet development}
days=${CERT_DAYS:-3650}
mkdir -p "$dir"
cd "$dir"

if ! command -v openssl >/dev/null; then
  echo "gen-certs.sh: openssl not found (scripts/deps.sh installs it)" >&2
  exit 1
fi

if [ ! -f ca.key ] || [ ! -f ca.crt ]; then
  openssl genrsa -out ca.key 2048 2>/dev/null
  openssl req -x509 -new -nodes -sha256 -key ca.key -days "$days" \
    -subj "/O=Cachet/CN=$name CA" -out ca.crt
fi

# sign NAME SUBJECT EXT: a key and a certificate signed by the CA. A random
# serial, so each certificate made is told apart by INFO's serial field.
sign() {
  local base=$1 subj=$2 ext=$3
  [ -f "$base.key" ] && [ -f "$base.crt" ] && return 0
  openssl genrsa -out "$base.key" 2048 2>/dev/null
  openssl req -new -sha256 -key "$base.key" -subj "$subj" -out "$base.csr"
  printf '%s\n' "$ext" > "$base.ext"
  openssl x509 -req -sha256 -in "$base.csr" -CA ca.crt -CAkey ca.key \
    -set_serial "0x$(openssl rand -hex 8)" -days "$days" -extfile "$base.ext" -out "$base.crt" 2>/dev/null
  rm -f "$base.csr" "$base.ext"
}

sign server "/O=Cachet/CN=localhost" \
  "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1
keyUsage=digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth"
sign client "/O=Cachet/CN=default" \
  "keyUsage=digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth"

chmod 600 ./*.key
