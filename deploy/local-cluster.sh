#!/usr/bin/env bash
# Cluster mode on one machine, with one command: the store, three silo-only processes and two API processes
# joined to them as Orleans clients, all on loopback.
#
#   deploy/local-cluster.sh up [--redis-cluster]   build (Release), start everything, wait until both APIs are ready
#   deploy/local-cluster.sh status                 which processes run, and the APIs' readiness
#   deploy/local-cluster.sh start <name>           start one process again (silo-1..3, api-1..2, redis) as `up` did
#   deploy/local-cluster.sh down                   stop everything (the data stays in .local-cluster/)
#
# The store is one redis-server (AOF, fsync always), or with --redis-cluster a 3-master Redis Cluster. The APIs
# answer on http://127.0.0.1:5181 and :5182 with the key in .local-cluster/api-key.txt (tenant "default"); each
# serves /metrics (Prometheus) and /health/ready; set OTEL_EXPORTER_OTLP_ENDPOINT to send traces and metrics of
# every process to a collector. Logs: .local-cluster/logs/. Needs the .NET SDK and redis-server (redis-tools).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
state="${SESSIONREC_LOCAL_CLUSTER:-$root/.local-cluster}"
case "$state" in /*) ;; *) state="$PWD/$state" ;; esac # the APIs run in another folder (below)
redis_ports=(6390 6391 6392)
silo_ports=(11211 11212 11213)
gateway_ports=(30100 30101 30102)
api_ports=(5181 5182)

pids() { [[ -d "$state/pids" ]] && cat "$state"/pids/*.pid 2>/dev/null || true; }

alive() { kill -0 "$1" 2>/dev/null; }

start() { # name, then the command; its output goes to logs/<name>.log, its pid to pids/<name>.pid
  local name="$1"; shift
  "$@" >> "$state/logs/$name.log" 2>&1 &
  echo $! > "$state/pids/$name.pid"
}

wait_for() { # what, seconds, then a command that succeeds when it is there
  local what="$1" seconds="$2"; shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" > /dev/null 2>&1; do
    if (( SECONDS > deadline )); then
      echo "$what did not come up within ${seconds} s; see $state/logs/" >&2
      return 1
    fi
    sleep 0.5
  done
}

up() {
  local cluster=false
  [[ "${1:-}" == "--redis-cluster" ]] && cluster=true
  if [[ -n "$(pids)" ]]; then
    for pid in $(pids); do alive "$pid" && { echo "already running (deploy/local-cluster.sh down first)" >&2; exit 1; }; done
  fi

  # A port taken by another process (an earlier cluster left running) would make its process fail to start while
  # the other one answers in its place: refuse instead.
  for port in "${redis_ports[@]}" "${silo_ports[@]}" "${gateway_ports[@]}" "${api_ports[@]}"; do
    if (echo > "/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "port $port is in use (an earlier cluster still running? deploy/local-cluster.sh down, with its folder)" >&2
      exit 1
    fi
  done

  mkdir -p "$state/logs" "$state/pids" "$state/models"
  rm -f "$state"/pids/*.pid
  echo "building (Release)..."
  dotnet build -c Release "$root/src/Silo/SessionRec.Silo.csproj" -v q -nologo > "$state/logs/build.log"
  dotnet build -c Release "$root/src/Api/SessionRec.Api.csproj" -v q -nologo >> "$state/logs/build.log"

  local redis
  if $cluster; then
    local nodes=()
    for port in "${redis_ports[@]}"; do
      mkdir -p "$state/redis-$port"
      start "redis-$port" redis-server --port "$port" --bind 127.0.0.1 --dir "$state/redis-$port" --appendonly yes \
        --appendfsync always --save "" --cluster-enabled yes --cluster-config-file nodes.conf \
        --cluster-node-timeout 2000 --cluster-require-full-coverage no
      wait_for "redis-server :$port" 10 redis-cli -p "$port" ping
      nodes+=("127.0.0.1:$port")
    done
    if ! redis-cli -p "${redis_ports[0]}" cluster info | grep -q cluster_state:ok; then
      redis-cli --cluster create "${nodes[@]}" --cluster-yes > "$state/logs/redis-cluster-create.log"
    fi
    for port in "${redis_ports[@]}"; do
      wait_for "the Redis Cluster" 30 bash -c "redis-cli -p $port cluster info | grep -q cluster_state:ok"
    done
    redis="$(IFS=,; echo "${nodes[*]}")"
  else
    launch redis
    redis="127.0.0.1:${redis_ports[0]}"
  fi

  echo "$redis" > "$state/redis.txt"
  [[ -f "$state/api-key.txt" ]] || head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$state/api-key.txt"
  for name in silo-1 silo-2 silo-3 api-1 api-2; do
    launch "$name"
  done

  for port in "${api_ports[@]}"; do
    wait_for "the API on :$port" 90 curl -fsS "http://127.0.0.1:$port/health/ready"
  done

  echo "up: 3 silos, 2 APIs (http://127.0.0.1:${api_ports[0]}, http://127.0.0.1:${api_ports[1]}), store $redis"
  echo "key: $state/api-key.txt   logs: $state/logs/   stop: deploy/local-cluster.sh down"
}

# Starts one process of the cluster with the settings `up` gave it (the single redis-server, a silo or an API).
launch() {
  local name="$1"
  local redis key i
  redis="$(cat "$state/redis.txt" 2>/dev/null || echo "127.0.0.1:${redis_ports[0]}")"
  key="$(cat "$state/api-key.txt" 2>/dev/null || true)"
  local common=(ConnectionStrings__Redis="$redis" Orleans__ClusterId=local Models__Path="$state/models")
  case "$name" in
    redis)
      mkdir -p "$state/redis"
      start redis redis-server --port "${redis_ports[0]}" --bind 127.0.0.1 --dir "$state/redis" --appendonly yes \
        --appendfsync always --save ""
      wait_for "redis-server" 10 redis-cli -p "${redis_ports[0]}" ping
      ;;
    silo-[123])
      i=$((${name#silo-} - 1))
      start "$name" env "${common[@]}" OTEL_SERVICE_NAME="sessionrec-$name" Orleans__SiloPort="${silo_ports[$i]}" \
        Orleans__GatewayPort="${gateway_ports[$i]}" dotnet "$root/src/Silo/bin/Release/net10.0/SessionRec.Silo.dll"
      ;;
    api-[12])
      i=$((${name#api-} - 1))
      # In the project's folder, as `dotnet run` would: ASP.NET Core finds appsettings.json and the dashboard's
      # files (wwwroot) in the working directory; from elsewhere the dashboard answered 404 and every request was
      # logged at Information.
      start "$name" bash -c 'cd "$0" && exec "$@"' "$root/src/Api" \
        env "${common[@]}" OTEL_SERVICE_NAME="sessionrec-$name" Orleans__Role=Client Urls="http://127.0.0.1:${api_ports[$i]}" \
        Auth__Keys__0__Key="$key" Auth__Keys__0__Tenant=default Storage__DataPath="$state/$name" \
        dotnet "$root/src/Api/bin/Release/net10.0/SessionRec.Api.dll"
      ;;
    *) echo "no process named '$name' (silo-1..3, api-1..2, redis)" >&2; return 2 ;;
  esac
}

start_one() {
  local name="${1:-}"
  local file="$state/pids/$name.pid"
  if [[ -f "$file" ]] && alive "$(cat "$file")"; then
    echo "$name is running" >&2
    return 1
  fi
  launch "$name"
  echo "started $name (pid $(cat "$file"))"
}

status() {
  for file in "$state"/pids/*.pid; do
    [[ -f "$file" ]] || continue
    local pid
    pid="$(cat "$file")"
    printf '%-12s %-8s %s\n' "$(basename "$file" .pid)" "$pid" "$(alive "$pid" && echo running || echo stopped)"
  done
  for port in "${api_ports[@]}"; do
    printf 'api :%s ready: %s\n' "$port" "$(curl -fsS "http://127.0.0.1:$port/health/ready" 2>/dev/null || echo no)"
  done
}

down() {
  # The APIs first, then the silos, then the store, each given 10 s to stop before it is killed.
  for group in api silo redis; do
    for file in "$state"/pids/"$group"*.pid; do
      [[ -f "$file" ]] || continue
      local pid
      pid="$(cat "$file")"
      alive "$pid" && kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 20); do alive "$pid" || break; sleep 0.5; done
      alive "$pid" && kill -9 "$pid" 2>/dev/null || true
      rm -f "$file"
    done
  done
  echo "down"
}

case "${1:-}" in
  up) shift; up "$@" ;;
  status) status ;;
  start) shift; start_one "$@" ;;
  down) down ;;
  *) sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
