#!/usr/bin/env bash
# `make run-cachetd`: starts build/cachetd with its embedded store in
# ./cachetd-data, creates (once) the replication group "demo" (a primary and
# one replica) with in-transit encryption in `preferred` mode, and prints how
# to reach it. ^C stops
# cachetd; the nodes keep running and the next start adopts them (delete the
# group with the AWS CLI to stop them).
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${CACHETD_DATA:-$PWD/cachetd-data}
LISTEN=${CACHETD_LISTEN:-127.0.0.1:9736}
AWS=${AWS:-/usr/bin/aws}
export AWS_SHARED_CREDENTIALS_FILE=$DATA/credentials AWS_DEFAULT_REGION=us-east-1 AWS_CONFIG_FILE=/dev/null
export AWS_DATA_PATH=/usr/lib/python3/dist-packages/awscli/botocore/data
E=(--endpoint-url "http://$LISTEN")

build/cachetd --data-dir "$DATA" --listen "$LISTEN" &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid"' INT TERM EXIT
for _ in $(seq 50); do curl -sf "http://$LISTEN/ca.pem" >/dev/null 2>&1 && break; sleep 0.1; done

if ! "$AWS" elasticache describe-replication-groups "${E[@]}" --replication-group-id demo >/dev/null 2>&1; then
  "$AWS" elasticache create-replication-group "${E[@]}" --replication-group-id demo \
    --replication-group-description "make run-cachetd" --num-cache-clusters 2 \
    --transit-encryption-enabled --transit-encryption-mode preferred >/dev/null
fi
for _ in $(seq 100); do
  st=$("$AWS" elasticache describe-replication-groups "${E[@]}" --replication-group-id demo \
        --query 'ReplicationGroups[0].Status' --output text)
  [ "$st" = available ] && break
  sleep 0.3
done
port=$("$AWS" elasticache describe-replication-groups "${E[@]}" --replication-group-id demo \
        --query 'ReplicationGroups[0].NodeGroups[0].PrimaryEndpoint.Port' --output text)
rport=$("$AWS" elasticache describe-replication-groups "${E[@]}" --replication-group-id demo \
        --query 'ReplicationGroups[0].NodeGroups[0].ReaderEndpoint.Port' --output text)
curl -sf "http://$LISTEN/ca.pem" > "$DATA/client-ca.pem"
cat <<MSG

cachetd on http://$LISTEN, replication group "demo" ($st, tls-mode preferred):
primary 127.0.0.1:$port, replica (reader endpoint) 127.0.0.1:$rport
  plaintext: redis-cli -p $port
  TLS:       redis-cli -p $port --tls --cacert $DATA/client-ca.pem
  replica:   redis-cli -p $rport --tls --cacert $DATA/client-ca.pem info replication
  AWS CLI:   AWS_SHARED_CREDENTIALS_FILE=$DATA/credentials AWS_DEFAULT_REGION=us-east-1 \\
             aws elasticache describe-replication-groups --endpoint-url http://$LISTEN
  (docs/control-plane.md has the whole walk-through; ^C stops cachetd, the nodes keep running)
MSG
wait "$pid"
