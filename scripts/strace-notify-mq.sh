# Sourced by scripts/strace-layer.sh for notify-mq: real servers on loopback (redis-server, nats-server
# with JetStream, aiosmtpd with STARTTLS and AUTH, a webhook receiver), each started here and stopped by
# its PID, so that the trace holds what real sends ask of the kernel (sockets, poll, TLS, the resolver).
NMQ_HELPERS=$(pwd)/Tests/NotifyMQServers
nmq_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
nmq_wait() { for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }

notify_mq_setup() {  # DIR: start the servers, write their settings into DIR/trace.yml and secrets into DIR/data
    local dir=$1
    NMQ_PIDS=()
    REDIS_PORT=$(nmq_port); NATS_PORT=$(nmq_port); SMTP_PORT=$(nmq_port); HOOK_PORT=$(nmq_port)
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$dir" --save "" --appendonly no \
        --requirepass rpw --logfile "$dir/redis.log" & NMQ_PIDS+=($!)
    mkdir -p "$dir/js"
    printf 'listen: 127.0.0.1:%s\njetstream { store_dir: "%s/js" }\n' "$NATS_PORT" "$dir" >"$dir/nats.conf"
    nats-server -c "$dir/nats.conf" >"$dir/nats.log" 2>&1 & NMQ_PIDS+=($!)
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$dir/key.pem" \
        -out "$dir/cert.pem" -days 1 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>/dev/null
    python3 "$NMQ_HELPERS/smtp_server.py" "$SMTP_PORT" "$dir/cert.pem" "$dir/key.pem" u p "$dir/mail.jsonl" \
        >"$dir/smtp.log" 2>&1 & NMQ_PIDS+=($!)
    python3 "$NMQ_HELPERS/webhook_receiver.py" "$HOOK_PORT" "$dir/hooks.jsonl" >"$dir/hook.log" 2>&1 & NMQ_PIDS+=($!)
    for p in "$REDIS_PORT" "$NATS_PORT" "$SMTP_PORT" "$HOOK_PORT"; do nmq_wait "$p" || { echo "server on $p did not start" >&2; return 1; }; done
    python3 "$NMQ_HELPERS/notify_probe.py" nats-request 127.0.0.1 "$NATS_PORT" "" "" '$JS.API.STREAM.CREATE.EVENTS' \
        '{"name":"EVENTS","subjects":["events.>"],"storage":"memory"}' >/dev/null
    mkdir -p "$dir/data/secrets" && chmod 700 "$dir/data/secrets"
    printf rpw >"$dir/data/secrets/redis_password"; printf p >"$dir/data/secrets/smtp_password"
    printf whsec >"$dir/data/secrets/webhook_secret"; cp "$dir/cert.pem" "$dir/data/secrets/smtp_ca"
    chmod 600 "$dir/data/secrets/"*
    # secrets_dir named: with --data on the command line, the default <data>/secrets follows the config file's data.
    cat >>"$dir/trace.yml" <<YML
secrets_dir: $dir/data/secrets
layers:
  notify-mq:
    allow: [127.0.0.1/32]
    redis: {main: {host: 127.0.0.1, port: $REDIS_PORT, password: {secret: redis_password}}}
    nats: {main: {host: 127.0.0.1, port: $NATS_PORT}}
    smtp: {mail: {url: "smtp://127.0.0.1:$SMTP_PORT", username: u, password: {secret: smtp_password},
                  ca_pem: {secret: smtp_ca}, from: runner@example.test}}
    webhook: {signing_keys: {hooks: {secret: webhook_secret}}}
YML
}

notify_mq_run() {  # every op once against the real servers, plus a failure of each kind
    run "[$(step x redis.xadd '{"server": "main", "stream": "s", "fields": {"a": "1"}}'),
          $(step p redis.publish '{"server": "main", "channel": "c", "message": {"a": 1}}'),
          $(step n nats.publish '{"server": "main", "subject": "events.a", "message": "x", "jetstream": true}'),
          $(step w webhook "{\"url\": \"http://127.0.0.1:$HOOK_PORT/h\", \"payload\": {\"a\": 1}, \"signing_key\": \"hooks\"}"),
          $(step e email '{"server": "mail", "to": "a@example.test", "subject": "Grüße", "text": "t", "html": "<p>h</p>"}')]"
    run "[$(step f webhook '{"url": "http://169.254.169.254/", "payload": {}, "signing_key": "hooks"}')]"
    run "[$(step g webhook '{"url": "http://localhost:1/", "payload": {}, "signing_key": "hooks"}')]"
}

notify_mq_stop() {
    for p in "${NMQ_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${NMQ_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
}
