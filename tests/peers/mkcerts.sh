#!/bin/sh
# Makes a throwaway CA and a server certificate for 127.0.0.1/localhost.
#
# usage: mkcerts.sh DIR
# Writes DIR/ca.pem, DIR/ca.key, DIR/server.pem (leaf only), DIR/server.key
# and DIR/server-chain.pem (leaf then CA).  The server certificate carries
# subjectAltName IP:127.0.0.1, IP:::1, DNS:localhost; both last 2 days.
set -eu

if [ $# -ne 1 ]; then
	echo "usage: $0 DIR" >&2
	exit 2
fi
dir=$1
mkdir -p "$dir"
cd "$dir"
umask 077

cat > ca.cnf <<'CNF'
[req]
distinguished_name = dn
prompt = no
[dn]
CN = crier test CA
[v3_ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
CNF

cat > server.cnf <<'CNF'
[req]
distinguished_name = dn
prompt = no
[dn]
CN = localhost
[v3_server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, IP:::1, DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
CNF

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -sha256 \
	-config ca.cnf -extensions v3_ca \
	-keyout ca.key -out ca.pem 2>/dev/null
openssl req -new -newkey rsa:2048 -nodes -sha256 \
	-config server.cnf -keyout server.key -out server.csr 2>/dev/null
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key \
	-CAcreateserial -days 2 -sha256 \
	-extfile server.cnf -extensions v3_server -out server.pem 2>/dev/null
cat server.pem ca.pem > server-chain.pem
rm -f server.csr ca.srl ca.cnf server.cnf
chmod 644 ca.pem server.pem server-chain.pem
