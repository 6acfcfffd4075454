#!/usr/bin/env bash
# Back up the HubRoute PostgreSQL database with pg_dump (custom format).
# See --help, and the Backups section of README.md.
set -euo pipefail

PROG=backup_db
usage() {
  cat <<'EOF'
Usage: scripts/backup_db.sh [--help]

Dumps the database named by DATABASE_URL (or by the standard PG* variables /
~/.pgpass when DATABASE_URL is unset) with `pg_dump -Fc` into BACKUP_DIR as

    <db>_<UTC timestamp>.dump          e.g. hubroute_20261123T190455Z.dump
    <db>_<UTC timestamp>.dump.sha256   sha256sum format; `sha256sum -c` works in BACKUP_DIR

The dump is written under a temporary name and renamed only once it is complete
and readable by `pg_restore --list`; on any failure no partial file is left.
Only one backup runs at a time per BACKUP_DIR (flock on BACKUP_DIR/.backup_db.lock).
After a successful backup, dumps of the same database older than
BACKUP_RETENTION_DAYS are deleted together with their .sha256, but the newest
BACKUP_KEEP_MIN dumps are always kept (and the dump just written never is pruned).

Environment:
  DATABASE_URL           postgres://user[:password]@host[:port]/db[?params]
                         (the password is passed to libpq via PGPASSWORD, never on a
                         command line; prefer ~/.pgpass)
  PGHOST, PGPORT, PGUSER, PGDATABASE, ...   used when DATABASE_URL is unset
  BACKUP_DIR             where dumps go (default ./backups; created with mode 700)
  BACKUP_RETENTION_DAYS  delete dumps older than this many days (default 30)
  BACKUP_KEEP_MIN        always keep at least this many newest dumps (default 3)

Exit codes:
  0  backup written (and old dumps pruned)
  1  failure (connection, pg_dump, disk, checksum, ...); no partial file is left
  2  usage error (unknown argument, invalid setting)
  3  another backup is already running in BACKUP_DIR
EOF
}

log() { printf '%s: %s\n' "$PROG" "$*"; }
err() { printf '%s: error: %s\n' "$PROG" "$*" >&2; }
die() { local code=$1; shift; err "$*"; exit "$code"; }

for arg in "$@"; do
  case "$arg" in
    -h|--help) usage; exit 0 ;;
    *) err "unknown argument: $arg"; usage >&2; exit 2 ;;
  esac
done

# --- PostgreSQL client tools: PATH first, else the newest /usr/lib/postgresql/*/bin
if ! command -v pg_dump >/dev/null 2>&1 || ! command -v pg_restore >/dev/null 2>&1 \
   || ! command -v psql >/dev/null 2>&1; then
  # shellcheck disable=SC2012  # version-named directories
  pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  [[ -n "$pgbin" ]] && PATH="$PATH:$pgbin"
fi
for tool in pg_dump pg_restore psql flock sha256sum; do
  command -v "$tool" >/dev/null 2>&1 || die 1 "required tool not found: $tool"
done

# --- settings
BACKUP_DIR=${BACKUP_DIR:-./backups}
BACKUP_RETENTION_DAYS=${BACKUP_RETENTION_DAYS:-30}
BACKUP_KEEP_MIN=${BACKUP_KEEP_MIN:-3}
[[ "$BACKUP_RETENTION_DAYS" =~ ^[0-9]+$ ]] || die 2 "BACKUP_RETENTION_DAYS must be a non-negative integer (got '$BACKUP_RETENTION_DAYS')"
[[ "$BACKUP_KEEP_MIN" =~ ^[0-9]+$ ]] || die 2 "BACKUP_KEEP_MIN must be a non-negative integer (got '$BACKUP_KEEP_MIN')"
BACKUP_RETENTION_DAYS=$((10#$BACKUP_RETENTION_DAYS))
BACKUP_KEEP_MIN=$((10#$BACKUP_KEEP_MIN))

# --- connection: DATABASE_URL (password moved to PGPASSWORD) or PG* variables
CONN_ARGS=()
if [[ -n "${DATABASE_URL:-}" ]]; then
  if [[ "$DATABASE_URL" =~ ^(postgres|postgresql)://(([^@/?]*)@)?([^/?]*)(/[^?]*)?(\?.*)?$ ]]; then
    scheme=${BASH_REMATCH[1]} userinfo=${BASH_REMATCH[3]} hostpart=${BASH_REMATCH[4]}
    path=${BASH_REMATCH[5]} query=${BASH_REMATCH[6]}
    user=$userinfo
    if [[ "$userinfo" == *:* ]]; then
      user=${userinfo%%:*}
      pw=${userinfo#*:}
      decoded=""
      while [[ "$pw" =~ ^([^%]*)%([0-9A-Fa-f]{2})(.*)$ ]]; do
        # shellcheck disable=SC2059  # the format is a \xHH escape built from two hex digits
        printf -v ch "\\x${BASH_REMATCH[2]}"
        decoded+=${BASH_REMATCH[1]}$ch
        pw=${BASH_REMATCH[3]}
      done
      export PGPASSWORD="$decoded$pw"
    fi
    url="$scheme://${user:+$user@}$hostpart$path$query"
    CONN_ARGS=(-d "$url")
  else
    die 2 "DATABASE_URL is not a postgres:// or postgresql:// URL"
  fi
fi

db=$(psql -X -q -At -v ON_ERROR_STOP=1 "${CONN_ARGS[@]}" -c 'SELECT current_database()') \
  || die 1 "cannot connect to the database (check DATABASE_URL / PG* variables / ~/.pgpass)"
[[ -n "$db" ]] || die 1 "could not determine the database name"
# file-name-safe form of the database name
prefix=$(printf '%s' "$db" | LC_ALL=C tr -c 'A-Za-z0-9._-' '_')

# --- backup directory and lock (files are private: dumps hold password hashes etc.)
umask 077
mkdir -p -- "$BACKUP_DIR" || die 1 "cannot create BACKUP_DIR '$BACKUP_DIR'"
[[ -d "$BACKUP_DIR" && -w "$BACKUP_DIR" ]] || die 1 "BACKUP_DIR '$BACKUP_DIR' is not a writable directory"
lockfile="$BACKUP_DIR/.backup_db.lock"
exec 9>>"$lockfile" || die 1 "cannot open lock file $lockfile"
if ! flock -n 9; then
  die 3 "another backup is already running in $BACKUP_DIR (lock $lockfile is held); not starting a second one"
fi

# Leftovers of a crashed earlier run can be removed safely: we hold the lock.
shopt -s nullglob
for stale in "$BACKUP_DIR"/.*.dump.partial "$BACKUP_DIR"/.*.dump.sha256.partial; do
  log "removing leftover temporary file from an interrupted run: $stale"
  rm -f -- "$stale"
done
shopt -u nullglob

# --- names (wait for a new second rather than overwrite an existing dump)
while :; do
  ts=$(date -u +%Y%m%dT%H%M%SZ)
  base="${prefix}_${ts}.dump"
  [[ -e "$BACKUP_DIR/$base" || -e "$BACKUP_DIR/$base.sha256" ]] || break
  sleep 1
done
final="$BACKUP_DIR/$base"
tmp="$BACKUP_DIR/.$base.partial"
final_sha="$final.sha256"
tmp_sha="$BACKUP_DIR/.$base.sha256.partial"

done_ok=0
renamed=0
cleanup() {
  local rc=$?
  if [[ $done_ok -ne 1 ]]; then
    rm -f -- "$tmp" "$tmp_sha"
    if [[ $renamed -eq 1 ]]; then rm -f -- "$final" "$final_sha"; fi
    [[ $rc -eq 0 ]] && rc=1
    err "backup failed; no partial backup file was left behind"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- dump
log "backing up database '$db' to $final"
start=$(date +%s)
pg_dump -Fc "${CONN_ARGS[@]}" -f "$tmp" || die 1 "pg_dump failed"
[[ -s "$tmp" ]] || die 1 "pg_dump produced an empty file"
pg_restore --list "$tmp" >/dev/null || die 1 "the new dump is not readable by pg_restore --list"
hash=$(sha256sum <"$tmp") || die 1 "sha256sum failed"
hash=${hash%% *}
printf '%s  %s\n' "$hash" "$base" >"$tmp_sha"
sync -- "$tmp" "$tmp_sha" 2>/dev/null || true
renamed=1
mv -f -- "$tmp" "$final"
mv -f -- "$tmp_sha" "$final_sha"
sync -- "$BACKUP_DIR" 2>/dev/null || true
size=$(stat -c %s -- "$final")
log "wrote $final ($size bytes, $(( $(date +%s) - start ))s) and $base.sha256 (sha256 $hash)"

# --- retention: dumps of this database, newest first (by modification time)
now=$(date +%s)
max_age=$((BACKUP_RETENTION_DAYS * 86400))
mapfile -t dumps < <(
  find "$BACKUP_DIR" -maxdepth 1 -type f -name "${prefix}_*.dump" -printf '%T@\t%f\n' \
    | LC_ALL=C sort -t $'\t' -k1,1nr -k2,2r | cut -f2
)
kept=0 pruned=0 idx=0
for f in "${dumps[@]}"; do
  [[ "$f" =~ ^"$prefix"_[0-9]{8}T[0-9]{6}Z\.dump$ ]] || continue
  idx=$((idx + 1))
  path="$BACKUP_DIR/$f"
  mtime=$(stat -c %Y -- "$path")
  age=$((now - mtime))
  if [[ "$f" == "$base" || $idx -le $BACKUP_KEEP_MIN || $age -le $max_age ]]; then
    kept=$((kept + 1))
    continue
  fi
  rm -f -- "$path" "$path.sha256"
  pruned=$((pruned + 1))
  log "pruned $f and its .sha256 ($((age / 86400)) days old)"
done
log "retention: kept $kept dump(s) of '$db', pruned $pruned (BACKUP_RETENTION_DAYS=$BACKUP_RETENTION_DAYS, BACKUP_KEEP_MIN=$BACKUP_KEEP_MIN)"

done_ok=1
log "done"
