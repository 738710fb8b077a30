#!/usr/bin/env bash
# The generated-TypeScript-client tier, as a frontend team uses the contract. From the repo root:
#   bash contract/check.sh
# npm ci; both clients generated from the committed api-specification.yaml (any generator warning
# fails); strict tsc; no casts in hand-written code; Redocly lint (recommended); the flows against
# an in-memory API; the Prism mock server on the contract; the browser check (Debian Chromium), whose reconnect part runs its own API
# processes on redis-server and SecantusDB. Every stage runs that can; the exit status is non-zero
# if any failed. KEEP_WORK=1 keeps the logs folder.
set -uo pipefail

contract="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$contract")"
cd "$contract"

export NO_COLOR=1 FORCE_COLOR=0
export npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
export CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
export TASKLANE_BIN="$root/.venv/bin/tasklane"
# The contract to generate from and lint; CONTRACT_SPEC=path tries an edited copy.
spec="${CONTRACT_SPEC:-$root/api-specification.yaml}"
python="$root/.venv/bin/python"
# The flows make ~700 requests and a few logins in seconds: lift the limits for them (env, as documented).
export RATE_LIMIT_AUTHENTICATED=100000/minute RATE_LIMIT_ANONYMOUS=100000/minute
export LOGIN_RATE_LIMIT_PER_IP=1000/minute LOGIN_RATE_LIMIT_PER_EMAIL=1000/minute
export DRAIN_TIMEOUT_SECONDS=5 LOG_JSON=false

work="$(mktemp -d)"
export TASKLANE_LOG_DIR="$work"
pids=()
failed=()
skipped=()
started=$SECONDS

cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [[ "${KEEP_WORK:-}" == 1 ]]; then echo "logs kept in $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# stage NAME COMMAND...: run, time, record a failure; never stops the script.
stage() {
  local name="$1" t0=$SECONDS
  shift
  echo
  echo "== $name"
  if "$@"; then
    echo "-- $name: ok ($((SECONDS - t0)) s)"
    return 0
  fi
  echo "-- $name: FAILED ($((SECONDS - t0)) s)"
  failed+=("$name")
  return 1
}
skip() { echo; echo "== $1: skipped (it needs $2)"; skipped+=("$1"); }

free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

wait_http() { # URL SECONDS
  local deadline=$((SECONDS + $2))
  until curl -fsS -o /dev/null "$1" 2>/dev/null; do
    if ((SECONDS > deadline)); then echo "no answer from $1 within $2 s"; return 1; fi
    sleep 0.2
  done
}

# Every line a generator prints that is not one of its progress lines is a warning.
generator_warnings() { # LOG PROGRESS-REGEX
  sed -e 's/\x1b\[[0-9;]*m//g' "$1" | grep -vE "$2" | grep -vE '^\s*$' || true
}

no_registry() { # LOCKFILE: no download addresses in a committed lock file
  if grep -nE '"resolved"|registry\.npmjs|npmjs\.org' "$1"; then
    echo "$1 names a registry (keep omit-lockfile-registry-resolved=true in .npmrc)"
    return 1
  fi
}

install() {
  npm ci --no-audit --no-fund || return 1
  no_registry package-lock.json
}

# generate NAME PROGRESS-REGEX OUTPUT COMMAND...: run a generator into a fresh folder; any line it
# prints that is not one of its progress lines is a warning, and fails the stage.
generate() {
  local name="$1" progress="$2" output="$3" log="$work/${1//\//-}.log" status=0 warnings
  shift 3
  rm -rf "$(dirname "$output")"
  "$@" >"$log" 2>&1 || status=$?
  sed -e 's/\x1b\[[0-9;]*m//g' "$log"
  warnings="$(generator_warnings "$log" "$progress")"
  echo "$name warnings: $( [[ -z "$warnings" ]] && echo none || echo "$warnings" | wc -l)"
  [[ -n "$warnings" ]] && printf '  %s\n' "$warnings"
  [[ $status -eq 0 && -z "$warnings" && -s "$output" ]]
}

generate_openapi_typescript() {
  generate openapi-typescript \
    '^(✨ openapi-typescript [0-9.]+|🚀 .+ → generated/openapi-typescript/schema\.d\.ts \[[0-9.]+m?s\])$' \
    generated/openapi-typescript/schema.d.ts \
    npx --no-install openapi-typescript "$spec" -o generated/openapi-typescript/schema.d.ts
}

generate_hey_api() {
  generate @hey-api/openapi-ts \
    '^(@hey-api/openapi-ts v[0-9.]+|\[Job [0-9]+\] (⏳ Generating from [0-9]+ inputs?:|  \[[0-9]+\] .+\.yaml|✅ Done! Your output is in .*))$' \
    generated/hey-api/sdk.gen.ts \
    npx --no-install openapi-ts -i "$spec" -o generated/hey-api -c @hey-api/client-fetch --no-log-file
}

typecheck() {
  rm -rf build
  local status=0
  # The openapi-typescript flow, the browser check and tools: strict, noUncheckedIndexedAccess,
  # exactOptionalPropertyTypes.
  npx --no-install tsc -p tsconfig.json || status=1
  # The hey-api flow with the generated SDK and client (which does not compile under
  # exactOptionalPropertyTypes; see tsconfig.hey-api.json).
  npx --no-install tsc -p tsconfig.hey-api.json || status=1
  return $status
}

no_casts() { node build/tools/no-casts.js flow/*.ts flow-hey-api/*.ts browser/*.ts mock/*.ts tools/*.ts; }

# Redocly exits non-zero on errors only; warnings fail this stage too (the goal is 0/0).
lint() {
  local log="$work/redocly.log" status=0
  npx --no-install redocly lint "$spec" --config lint/redocly.yaml --format=stylish >"$log" 2>&1 || status=$?
  grep -v '^\s*[║╔╚]' "$log"
  if grep -qE 'You have [0-9]+ warnings?' "$log"; then echo "lint warnings fail this check (goal: 0 errors, 0 warnings)"; status=1; fi
  return $status
}

# Optic's own folder (its install scripts are telemetry and polyfill notices: skipped).
compat_install() {
  (cd compat && npm ci --ignore-scripts --no-audit --no-fund) || return 1
  no_registry compat/package-lock.json
}

# The gate must be able to fail: an operation removed under a minor version (with its changelog
# entry) is refused.
gate_refuses() {
  "$python" - "$spec" "$work/removed.yaml" "$work/CHANGELOG.md" <<'PY' || return 1
import sys, yaml
spec = yaml.safe_load(open(sys.argv[1]))
del spec["paths"]["/api/v1/projects/{project_id}/events/tickets"]
major, minor, _ = spec["info"]["version"].split(".")
spec["info"]["version"] = f"{major}.{int(minor) + 1}.0"
open(sys.argv[2], "w").write(yaml.safe_dump(spec))
open(sys.argv[3], "w").write(f"## {spec['info']['version']}\n\nRemoved the stream tickets.\n")
PY
  local status=0
  "$python" compat/gate.py --released "$spec" --current "$work/removed.yaml" --changelog "$work/CHANGELOG.md" \
    >"$work/gate-refuses.log" 2>&1 || status=$?
  tail -n 3 "$work/gate-refuses.log"
  grep -q "prevent operation removal" "$work/gate-refuses.log" && [[ $status -eq 1 ]]
}

start_memory_api() {
  local port
  port="$(free_port)"
  (cd "$root" && exec env -u MONGODB_URL -u REDIS_URL "$TASKLANE_BIN" serve --host 127.0.0.1 --port "$port") >"$work/api-memory.log" 2>&1 &
  pids+=($!)
  export TASKLANE_URL="http://127.0.0.1:$port"
  wait_http "$TASKLANE_URL/health/live" 60 || { tail -n 30 "$work/api-memory.log"; return 1; }
  echo "API (in-memory) on $TASKLANE_URL"
}

start_real_servers() {
  if ! command -v redis-server >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null || return 1
  fi
  if [[ ! -x "$root/.venv/bin/secantusd-py" ]]; then
    "$python" -m pip install --quiet -c "$root/constraints.txt" "SecantusDB==0.7.0b3" || return 1
  fi
  local redis_port mongo_port
  redis_port="$(free_port)"
  redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --daemonize no >"$work/redis.log" 2>&1 &
  pids+=($!)
  mongo_port="$(free_port)"
  "$root/.venv/bin/secantusd-py" --host 127.0.0.1 --port "$mongo_port" --storage-path ':memory:' --log-level WARNING >"$work/secantus.log" 2>&1 &
  pids+=($!)
  export MONGODB_URL="mongodb://127.0.0.1:$mongo_port/?directConnection=true"
  export REDIS_URL="redis://127.0.0.1:$redis_port/0"
  export MONGODB_DB="contract_browser"
  "$python" - <<'PY'
import os, time
import pymongo, redis
deadline = time.monotonic() + 60
while True:
    try:
        pymongo.MongoClient(os.environ["MONGODB_URL"], serverSelectionTimeoutMS=1000).admin.command("ping")
        redis.Redis.from_url(os.environ["REDIS_URL"]).ping()
        break
    except Exception as exc:
        if time.monotonic() > deadline:
            raise SystemExit(f"servers did not start: {exc!r}")
        time.sleep(0.3)
print("redis-server and SecantusDB ready")
PY
}

# The README's mock server for a frontend that runs ahead of the backend, checked as it is used.
mock_server() {
  local port
  port="$(free_port)"
  # Started directly, not through npx: npx's child outlived the kill at exit.
  ./node_modules/.bin/prism mock -h 127.0.0.1 -p "$port" "$spec" >"$work/prism.log" 2>&1 &
  pids+=($!)
  export PRISM_URL="http://127.0.0.1:$port"
  wait_http_any "$PRISM_URL/health/live" 60 || { tail -n 30 "$work/prism.log"; return 1; }
  node build/mock/main.js || { tail -n 30 "$work/prism.log"; return 1; }
}

wait_http_any() { # URL SECONDS: any HTTP answer
  local deadline=$((SECONDS + $2))
  until curl -sS -o /dev/null "$1" 2>/dev/null; do
    if ((SECONDS > deadline)); then echo "no answer from $1 within $2 s"; return 1; fi
    sleep 0.3
  done
}

ensure_chromium() {
  if [[ ! -x "$CHROMIUM" ]]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null || return 1
  fi
  "$CHROMIUM" --version
}

echo "contract check: node $(node --version), npm $(npm --version)"
stage "npm ci" install || { echo "cannot continue without node_modules"; exit 1; }
stage "generate: openapi-typescript (default options)" generate_openapi_typescript
stage "generate: @hey-api/openapi-ts (@hey-api/client-fetch)" generate_hey_api
built=0
# A generator warning fails its stage, but whatever was generated is still type-checked and run.
if [[ -s generated/openapi-typescript/schema.d.ts && -s generated/hey-api/sdk.gen.ts ]]; then
  stage "tsc (strict)" typecheck && built=1
else
  skip "tsc (strict)" "both generated clients"
fi
if ((built)); then stage "no casts in hand-written code" no_casts; else skip "no casts in hand-written code" "tsc"; fi
stage "redocly lint (recommended)" lint
if stage "breaking-change gate: npm ci (Optic)" compat_install; then
  stage "breaking-change gate: the contract against contract/released.yaml" "$python" compat/gate.py --current "$spec"
  stage "breaking-change gate refuses a removed operation without a major version (self-test)" gate_refuses
fi

if ((built)) && stage "start the API in memory" start_memory_api; then
  stage "flow: openapi-fetch + openapi-typescript" node build/flow/main.js
  stage "flow: @hey-api/openapi-ts" node build/flow-hey-api/main.js
  stage "mock server: Prism answers the contract's examples" mock_server
  if stage "chromium" ensure_chromium && stage "real servers for the reconnect check" start_real_servers; then
    stage "browser check (playwright-core, Debian Chromium)" node build/browser/check.js || { echo "API logs in $work (KEEP_WORK=1 keeps them)"; }
  else
    skip "browser check (playwright-core, Debian Chromium)" "chromium and real servers"
  fi
else
  skip "flows and browser check" "a build and a running API"
fi

echo
echo "== contract check: $((SECONDS - started)) s"
if ((${#skipped[@]})); then printf 'skipped: %s\n' "${skipped[@]}"; fi
if ((${#failed[@]})); then
  printf 'FAILED: %s\n' "${failed[@]}"
  exit 1
fi
echo "all stages passed"
