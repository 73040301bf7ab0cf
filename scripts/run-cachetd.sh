#!/usr/bin/env bash
# `make run`: starts build/cachetd in the foreground with its embedded store
# in ./cachetd-data, creates (once) the replication group "demo" (cluster mode
# disabled, a primary and one replica, in-transit encryption `preferred`),
# waits until both nodes answer and the replica's link is up, and prints how
# to reach it with redis-cli (plaintext and TLS) and the AWS CLI.
# ^C (or SIGTERM) stops cachetd *and* the group's nodes (cachetd
# --stop-nodes-on-exit): nothing is left running. The next `make run` reuses
# the data directory: the same group, started again on its recorded ports.
# Overrides (the tests use them to run on free ports):
#   CACHETD_DATA  the data directory          (default ./cachetd-data)
#   CACHETD_PORT  the API's port on 127.0.0.1 (default 9736)
#   CACHET_PORT   the group's Port at its creation: the primary on it, the
#                 replica on the next (default: free ports chosen by cachetd)
#   AWS           the AWS CLI                 (default /usr/bin/aws, else aws)
#   CACHETD_BIN   cachetd to run              (default build/cachetd; a sanitizer build in tests)
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${CACHETD_DATA:-$PWD/cachetd-data}
mkdir -p "$DATA"
DATA=$(cd "$DATA" && pwd)
LISTEN=127.0.0.1:${CACHETD_PORT:-9736}
if [ -z "${AWS:-}" ]; then
  if [ -x /usr/bin/aws ]; then AWS=/usr/bin/aws; else AWS=aws; fi
fi
export AWS_SHARED_CREDENTIALS_FILE=$DATA/credentials AWS_DEFAULT_REGION=us-east-1 AWS_CONFIG_FILE=/dev/null
export AWS_DATA_PATH=/usr/lib/python3/dist-packages/awscli/botocore/data
unset AWS_PROFILE AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN
E=(--endpoint-url "http://$LISTEN")
G=(--replication-group-id demo)

"${CACHETD_BIN:-build/cachetd}" --data-dir "$DATA" --listen "$LISTEN" --stop-nodes-on-exit &
pid=$!
stop() {
  trap - INT TERM EXIT
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
trap 'stop; exit 130' INT
trap 'stop; exit 143' TERM
trap stop EXIT

alive() { kill -0 "$pid" 2>/dev/null || { echo "run-cachetd: cachetd exited (is $LISTEN in use?)" >&2; exit 1; }; }
for _ in $(seq 100); do
  alive
  curl -sf "http://$LISTEN/ca.pem" -o "$DATA/client-ca.pem" && break
  sleep 0.1
done
[ -s "$DATA/client-ca.pem" ] || { echo "run-cachetd: no API on $LISTEN" >&2; exit 1; }

describe() { "$AWS" elasticache describe-replication-groups "${E[@]}" "${G[@]}" --output text --query "$1"; }
if ! "$AWS" elasticache describe-replication-groups "${E[@]}" "${G[@]}" >/dev/null 2>&1; then
  port=()
  [ -n "${CACHET_PORT:-}" ] && port=(--port "$CACHET_PORT")
  "$AWS" elasticache create-replication-group "${E[@]}" "${G[@]}" \
    --replication-group-description "make run" --num-cache-clusters 2 "${port[@]}" \
    --transit-encryption-enabled --transit-encryption-mode preferred >/dev/null
fi
st=
for _ in $(seq 120); do
  alive
  st=$(describe 'ReplicationGroups[0].Status')
  [ "$st" = available ] || [ "$st" = create-failed ] && break
  sleep 0.5
done
[ "$st" = available ] || { echo "run-cachetd: group demo is $st" >&2; exit 1; }
read -r pport rport < <(describe 'ReplicationGroups[0].NodeGroups[0].[PrimaryEndpoint.Port,ReaderEndpoint.Port]')
# A group that was already there is `available` at once, while cachetd is
# still starting its nodes again: wait until they serve and the replica
# follows its primary.
for _ in $(seq 100); do
  alive
  redis-cli -p "$rport" --tls --cacert "$DATA/client-ca.pem" info replication 2>/dev/null |
    grep -q '^master_link_status:up' && redis-cli -p "$pport" ping 2>/dev/null | grep -q PONG && break
  sleep 0.2
done

cat <<MSG

cachetd: the ElastiCache API on http://$LISTEN, state in $DATA
replication group "demo" ($st): cluster mode disabled, a primary and one replica, tls-mode preferred
  primary 127.0.0.1:$pport, replica (reader endpoint) 127.0.0.1:$rport; both take plaintext and TLS

  plaintext: redis-cli -p $pport set greeting hello
  TLS:       redis-cli -p $pport --tls --cacert $DATA/client-ca.pem get greeting
  replica:   redis-cli -p $rport --tls --cacert $DATA/client-ca.pem get greeting
  AWS CLI:   AWS_SHARED_CREDENTIALS_FILE=$DATA/credentials AWS_DEFAULT_REGION=us-east-1 $AWS elasticache describe-replication-groups --endpoint-url http://$LISTEN

^C stops cachetd and the group's nodes; the next \`make run\` starts them again (same group, same ports).
docs/control-plane.md has the whole AWS CLI walk-through (modify to tls-mode required, delete, ...).
MSG
wait "$pid"
