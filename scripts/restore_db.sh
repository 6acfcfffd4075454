#!/usr/bin/env bash
# Restore a HubRoute backup made by scripts/backup_db.sh.
# See --help, and the Backups section of README.md.
set -euo pipefail

PROG=restore_db
usage() {
  cat <<'EOF'
Usage: scripts/restore_db.sh FILE [--target URL|NAME] [--yes]

Restores FILE, a custom-format dump written by scripts/backup_db.sh (relative or
absolute path), after verifying it:
  1. FILE.sha256 must exist beside FILE and its checksum must match FILE;
  2. `pg_restore --list` must read FILE's table of contents, and a full read of
     the archive (pg_restore to /dev/null) must succeed (catches truncated files).
A file that fails these checks is refused before any database is touched.

Without --target, the dump is restored into a NEW database on the server of
DATABASE_URL (or the PG* variables / ~/.pgpass), named
<db>_restored_<YYYYMMDD>_<HHMMSS> (UTC, with _2, _3... appended if that name is
taken); its name is printed at the end. Nothing existing is modified.

With --target, the dump is restored into that database: a postgres:// URL, or a
bare database name on the server of DATABASE_URL / PG*. A missing target database
is created. A target that already holds tables, views or sequences in a
non-system schema is refused unless --yes is given; with --yes the objects of the
dump are dropped and recreated (objects that are not in the dump are left alone).

The restore runs `pg_restore --single-transaction --clean --if-exists --no-owner
--exit-on-error`: if it fails, nothing is committed and the target is left as it
was; a database this script created is dropped again. Afterwards it checks that
every table of the dump exists in the target, that schema_migrations (if the dump
has it) has rows, prints the table count and total rows, and runs ANALYZE.

Options:
  --target URL|NAME  restore into this database instead of a new one
  --yes, -y          allow replacing the contents of a non-empty --target
  --help, -h         show this help

Environment:
  DATABASE_URL       postgres://user[:password]@host[:port]/db[?params]
                     (passwords are handed to libpq via PGPASSWORD, never on a
                     command line; prefer ~/.pgpass)
  PGHOST, PGPORT, PGUSER, PGDATABASE, ...   used when DATABASE_URL is unset

Exit codes:
  0  restored and checked
  1  other failure (cannot connect, cannot create the database, ...)
  2  usage error
  3  FILE refused: missing/mismatching .sha256, or unreadable/truncated archive
     (no database was touched)
  4  target refused: non-empty target without --yes
  5  pg_restore failed; the transaction was rolled back, target left as it was
     (a database created by this run was dropped)
  6  restore committed but the checks afterwards failed (a database created by
     this run was dropped; an existing --target needs inspection)
EOF
}

log() { printf '%s: %s\n' "$PROG" "$*"; }
warn() { printf '%s: warning: %s\n' "$PROG" "$*" >&2; }
err() { printf '%s: error: %s\n' "$PROG" "$*" >&2; }
die() { local code=$1; shift; err "$*"; exit "$code"; }

# --- arguments
FILE="" TARGET="" HAVE_TARGET=0 YES=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    -y|--yes) YES=1 ;;
    --target) [[ $# -ge 2 && -n "$2" ]] || die 2 "--target needs a URL or database name"
              TARGET=$2; HAVE_TARGET=1; shift ;;
    --target=*) TARGET=${1#--target=}; HAVE_TARGET=1
                [[ -n "$TARGET" ]] || die 2 "--target needs a URL or database name" ;;
    --) shift; [[ $# -eq 1 && -z "$FILE" ]] || die 2 "expected exactly one FILE"; FILE=$1 ;;
    -*) err "unknown option: $1"; usage >&2; exit 2 ;;
    *) [[ -z "$FILE" ]] || die 2 "expected exactly one FILE (got '$FILE' and '$1')"; FILE=$1 ;;
  esac
  shift
done
[[ -n "$FILE" ]] || { err "missing FILE"; usage >&2; exit 2; }

# --- PostgreSQL client tools: PATH first, else the newest /usr/lib/postgresql/*/bin
if ! command -v pg_restore >/dev/null 2>&1 || ! command -v psql >/dev/null 2>&1; then
  # shellcheck disable=SC2012  # version-named directories
  pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  [[ -n "$pgbin" ]] && PATH="$PATH:$pgbin"
fi
for tool in pg_restore psql sha256sum; do
  command -v "$tool" >/dev/null 2>&1 || die 1 "required tool not found: $tool"
done

# ===================================================================== verify
# Everything in this section only reads FILE: no database is contacted.
[[ -e "$FILE" ]] || die 3 "no such file: $FILE"
[[ -f "$FILE" && -r "$FILE" ]] || die 3 "not a readable regular file: $FILE"
SHAFILE="$FILE.sha256"
[[ -f "$SHAFILE" && -r "$SHAFILE" ]] \
  || die 3 "checksum file $SHAFILE is missing; refusing to restore an unverifiable dump"
expected=$(head -n 1 -- "$SHAFILE" | awk '{print tolower($1)}')
[[ "$expected" =~ ^[0-9a-f]{64}$ ]] || die 3 "$SHAFILE is not in sha256sum format"
actual=$(sha256sum <"$FILE") || die 3 "cannot read $FILE"
actual=${actual%% *}
if [[ "$actual" != "$expected" ]]; then
  die 3 "checksum mismatch for $FILE (expected $expected, got $actual): the file is corrupted; refusing to restore (no database was touched)"
fi
log "checksum OK ($actual)"

MAINT="" CREATED=0 DONE=0 TGT_DB="" BASE_PW=""
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ $CREATED -eq 1 && $DONE -ne 1 ]]; then
    if psqlq "$MAINT" "$BASE_PW" -v n="$TGT_DB" <<<'DROP DATABASE IF EXISTS :"n";'; then
      log "dropped database '$TGT_DB' created by this run"
    else
      err "could not drop database '$TGT_DB' created by this run; drop it by hand"
    fi
  fi
  [[ -n "${TMPD:-}" ]] && rm -rf -- "$TMPD"
  [[ $DONE -ne 1 && $rc -eq 0 ]] && rc=1
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
TMPD=$(mktemp -d "${TMPDIR:-/tmp}/restore_db.XXXXXX")
TOC="$TMPD/toc"
if ! pg_restore --list -- "$FILE" >"$TOC" 2>"$TMPD/list.err"; then
  cat "$TMPD/list.err" >&2
  die 3 "pg_restore --list cannot read $FILE (truncated or not a custom-format dump); refusing to restore (no database was touched)"
fi
if ! pg_restore --file=/dev/null -- "$FILE" 2>"$TMPD/read.err"; then
  cat "$TMPD/read.err" >&2
  die 3 "$FILE cannot be read to the end (truncated or damaged archive); refusing to restore (no database was touched)"
fi

# Tables listed in the dump: "<id>; 1259 <oid> TABLE <schema> <name> <owner>"
TABLES="$TMPD/tables"
unchecked=0
: >"$TABLES"
while IFS= read -r line; do
  read -r -a f <<<"$line"
  [[ ${#f[@]} -ge 6 && "${f[1]}" == 1259 && "${f[3]}" == TABLE ]] || continue
  if [[ ${#f[@]} -gt 7 ]]; then unchecked=$((unchecked + 1)); continue; fi
  printf '%s\t%s\n' "${f[4]}" "${f[5]}" >>"$TABLES"
done < <(grep -v '^;' "$TOC" || true)
ntables=$(wc -l <"$TABLES")
has_migrations=0
awk -F '\t' '$2 == "schema_migrations" { found = 1 } END { exit !found }' "$TABLES" && has_migrations=1
dump_db=$(sed -n 's/^;[[:space:]]*dbname: //p' "$TOC" | head -n 1)
if [[ -z "$dump_db" ]]; then
  b=$(basename -- "$FILE")
  if [[ "$b" =~ ^(.+)_[0-9]{8}T[0-9]{6}Z\.dump$ ]]; then dump_db=${BASH_REMATCH[1]}; else dump_db=restored; fi
fi
log "archive OK: $FILE (database '$dump_db', $ntables tables)"

# ===================================================================== connections
# A "connection" is a pair (conninfo, password): conninfo is a postgres:// URL
# without password, "dbname=..." (rest from PG* variables), or "" (PG* only).
urldecode() {
  local s=$1 out="" ch
  while [[ "$s" =~ ^([^%]*)%([0-9A-Fa-f]{2})(.*)$ ]]; do
    # shellcheck disable=SC2059  # the format is a \xHH escape built from two hex digits
    printf -v ch "\\x${BASH_REMATCH[2]}"
    out+=${BASH_REMATCH[1]}$ch
    s=${BASH_REMATCH[3]}
  done
  REPLY=$out$s
}
urlencode() {
  local LC_ALL=C
  local s=$1 out="" c i
  for ((i = 0; i < ${#s}; i++)); do
    c=${s:i:1}
    if [[ "$c" =~ ^[A-Za-z0-9._~-]$ ]]; then out+=$c; else printf -v c '%%%02X' "'$c"; out+=$c; fi
  done
  REPLY=$out
}
# parse_url URL: sets U_BASE (scheme://user@host), U_DB (decoded), U_QUERY, U_PW
parse_url() {
  [[ "$1" =~ ^(postgres|postgresql)://(([^@/?]*)@)?([^/?]*)(/([^?]*))?(\?.*)?$ ]] || return 1
  local scheme=${BASH_REMATCH[1]} userinfo=${BASH_REMATCH[3]} host=${BASH_REMATCH[4]}
  local db=${BASH_REMATCH[6]} user
  U_QUERY=${BASH_REMATCH[7]} U_PW=""
  user=$userinfo
  if [[ "$userinfo" == *:* ]]; then user=${userinfo%%:*}; urldecode "${userinfo#*:}"; U_PW=$REPLY; fi
  U_BASE="$scheme://${user:+$user@}$host"
  urldecode "$db"; U_DB=$REPLY
}
# conn_for_db BASE DB -> REPLY: same server/user as BASE ("" = PG* variables), database DB
conn_for_db() {
  if [[ -n "$1" ]]; then
    urlencode "$2"; local enc=$REPLY
    REPLY="$1/$enc$BASE_QUERY"
  else
    local v=${2//\\/\\\\}; v=${v//\'/\\\'}
    REPLY="dbname='$v'"
  fi
}
pgrun() { # pgrun CONNINFO PASSWORD TOOL ARGS...
  local conn=$1 pw=$2 tool=$3; shift 3
  local -a ca=()
  [[ -n "$conn" ]] && ca=(-d "$conn")
  if [[ -n "$pw" ]]; then PGPASSWORD=$pw "$tool" "${ca[@]}" "$@"; else "$tool" "${ca[@]}" "$@"; fi
}
psqlq() { # psqlq CONNINFO PASSWORD [psql args] ; SQL on stdin
  local conn=$1 pw=$2; shift 2
  pgrun "$conn" "$pw" psql -X -q -At -v ON_ERROR_STOP=1 "$@"
}
display() { # human-readable, password-free description of a connection
  if [[ "$1" == *://* ]]; then REPLY=$1; else REPLY="database '$2' (PG* settings)"; fi
}

# Source server (DATABASE_URL or PG*): BASE_URL ("" for PG*), BASE_QUERY, BASE_PW, SRC_CONN
BASE_URL="" BASE_QUERY="" BASE_PW="" SRC_CONN=""
if [[ -n "${DATABASE_URL:-}" ]]; then
  parse_url "$DATABASE_URL" || die 2 "DATABASE_URL is not a postgres:// or postgresql:// URL"
  BASE_URL=$U_BASE BASE_QUERY=$U_QUERY BASE_PW=$U_PW
  if [[ -n "$U_DB" ]]; then urlencode "$U_DB"; SRC_CONN="$U_BASE/$REPLY$U_QUERY"; else SRC_CONN="$U_BASE$U_QUERY"; fi
fi

if [[ $HAVE_TARGET -eq 1 ]]; then
  if [[ "$TARGET" == *://* ]]; then
    parse_url "$TARGET" || die 2 "--target is not a postgres:// or postgresql:// URL"
    [[ -n "$U_DB" ]] || die 2 "--target URL must name a database (postgres://user@host:port/DB)"
    BASE_URL=$U_BASE BASE_QUERY=$U_QUERY BASE_PW=$U_PW SRC_CONN=""
    TGT_DB=$U_DB
  elif [[ "$TARGET" == *=* ]]; then
    die 2 "--target must be a postgres:// URL or a bare database name"
  else
    TGT_DB=$TARGET
  fi
else
  # <db>_restored_<YYYYMMDD>_<HHMMSS>, within PostgreSQL's 63-byte name limit
  suffix="_restored_$(date -u +%Y%m%d_%H%M%S)"
  stem=$dump_db
  while [[ $(printf '%s' "$stem$suffix" | wc -c) -gt 59 ]]; do stem=${stem%?}; done
  TGT_DB="$stem$suffix"
fi

# Maintenance connection on the target server (to create/drop databases).
MAINT=""
find_maint() {
  local c errs="$TMPD/maint.err"
  local -a cands=()
  [[ $HAVE_TARGET -eq 1 ]] && cands+=("$TGT_CONN")
  [[ -n "$SRC_CONN" ]] && cands+=("$SRC_CONN")
  [[ -z "$BASE_URL" ]] && cands+=("")   # the PG* variables as they are
  conn_for_db "$BASE_URL" postgres; cands+=("$REPLY")
  conn_for_db "$BASE_URL" template1; cands+=("$REPLY")
  for c in "${cands[@]}"; do
    if psqlq "$c" "$BASE_PW" -c 'SELECT 1' >/dev/null 2>"$errs"; then MAINT=$c; return 0; fi
  done
  cat "$errs" >&2
  return 1
}
db_exists() { # db_exists NAME -> 0/1 (via MAINT)
  local n
  n=$(psqlq "$MAINT" "$BASE_PW" -v n="$1" <<<"SELECT count(*) FROM pg_database WHERE datname = :'n';") || exit 1
  [[ "$n" == 1 ]]
}

conn_for_db "$BASE_URL" "$TGT_DB"; TGT_CONN=$REPLY
display "$TGT_CONN" "$TGT_DB"; TGT_SHOW=$REPLY


find_maint || die 1 "cannot connect to the database server (check DATABASE_URL / --target / PG* / ~/.pgpass)"

# ===================================================================== target
if [[ $HAVE_TARGET -eq 0 ]]; then
  # A new database: take the first free name (another restore may race us for it).
  n=1; base_name=$TGT_DB
  while :; do
    if ! db_exists "$TGT_DB"; then
      if psqlq "$MAINT" "$BASE_PW" -v n="$TGT_DB" <<<'CREATE DATABASE :"n" TEMPLATE template0;' 2>"$TMPD/create.err"; then
        CREATED=1
        break
      fi
      db_exists "$TGT_DB" || { cat "$TMPD/create.err" >&2; die 1 "cannot create database '$TGT_DB'"; }
    fi
    n=$((n + 1))
    [[ $n -le 50 ]] || die 1 "no free database name like '${base_name}_N'"
    TGT_DB="${base_name}_$n"
  done
  conn_for_db "$BASE_URL" "$TGT_DB"; TGT_CONN=$REPLY
  display "$TGT_CONN" "$TGT_DB"; TGT_SHOW=$REPLY
  log "created database '$TGT_DB'"
elif db_exists "$TGT_DB"; then
  objs=$(psqlq "$TGT_CONN" "$BASE_PW" <<'SQL'
SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'
  AND NOT EXISTS (SELECT 1 FROM pg_depend d
                  WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e');
SQL
  ) || die 1 "cannot inspect target $TGT_SHOW"
  if [[ "$objs" -gt 0 ]]; then
    if [[ $YES -ne 1 ]]; then
      die 4 "target $TGT_SHOW is not empty ($objs tables/views/sequences); refusing to overwrite it without --yes"
    fi
    log "target $TGT_SHOW is not empty ($objs tables/views/sequences); replacing the dump's objects (--yes)"
  else
    log "target $TGT_SHOW exists and is empty"
  fi
else
  psqlq "$MAINT" "$BASE_PW" -v n="$TGT_DB" <<<'CREATE DATABASE :"n" TEMPLATE template0;' \
    || die 1 "cannot create database '$TGT_DB'"
  CREATED=1
  log "created database '$TGT_DB'"
fi

# ===================================================================== restore
log "restoring $FILE into $TGT_SHOW (single transaction)"
start=$(date +%s)
if ! pgrun "$TGT_CONN" "$BASE_PW" pg_restore --single-transaction --clean --if-exists --no-owner \
     --exit-on-error -- "$FILE"; then
  if [[ $CREATED -eq 1 ]]; then
    die 5 "pg_restore failed; nothing was committed and the new database '$TGT_DB' will be dropped"
  fi
  die 5 "pg_restore failed; the transaction was rolled back and $TGT_SHOW is unchanged"
fi
log "pg_restore finished in $(( $(date +%s) - start ))s"

# ===================================================================== checks
failed=0
if [[ $ntables -gt 0 ]]; then
  values=""
  while IFS=$'\t' read -r s t; do
    s=${s//\'/\'\'}; t=${t//\'/\'\'}
    values+="${values:+,}('$s','$t')"
  done <"$TABLES"
  psqlq "$TGT_CONN" "$BASE_PW" -F $'\t' >"$TMPD/counts" <<SQL || die 6 "cannot count rows in the restored tables"
WITH t(s, n) AS (VALUES $values)
SELECT s, n, coalesce((SELECT (xpath('/row/c/text()',
          query_to_xml(format('SELECT count(*) AS c FROM %I.%I', s, n), false, true, '')))[1]::text::bigint
        WHERE to_regclass(format('%I.%I', s, n)) IS NOT NULL), -1)
FROM t ORDER BY 1, 2;
SQL
else
  : >"$TMPD/counts"
  warn "the dump lists no tables"
fi
missing=$(awk -F '\t' '$3 == -1 { printf "%s%s.%s", sep, $1, $2; sep = ", " }' "$TMPD/counts")
if [[ -n "$missing" ]]; then
  err "tables of the dump missing from the target: $missing"
  failed=1
fi
total=$(awk -F '\t' '$3 >= 0 { t += $3 } END { printf "%d", t }' "$TMPD/counts")
present=$(awk -F '\t' '$3 >= 0 { n++ } END { printf "%d", n }' "$TMPD/counts")
if [[ $has_migrations -eq 1 ]]; then
  mig=$(awk -F '\t' '$2 == "schema_migrations" && $3 >= 0 { t += $3; f = 1 } END { printf "%s", f ? t : -1 }' "$TMPD/counts")
  if [[ "$mig" -gt 0 ]]; then
    log "schema_migrations: $mig rows"
  else
    err "schema_migrations is missing or empty after the restore"
    failed=1
  fi
else
  warn "the dump has no schema_migrations table"
fi
[[ $unchecked -eq 0 ]] || warn "$unchecked table(s) with unusual names were not checked"
log "restored $present of $ntables tables, $total rows in total"
if [[ $failed -ne 0 ]]; then
  if [[ $CREATED -eq 1 ]]; then
    die 6 "checks after the restore failed; the new database '$TGT_DB' will be dropped"
  fi
  die 6 "checks after the restore failed; inspect $TGT_SHOW"
fi
psqlq "$TGT_CONN" "$BASE_PW" -c 'ANALYZE' >/dev/null || warn "ANALYZE failed (statistics will be gathered by autovacuum)"

DONE=1
if [[ $HAVE_TARGET -eq 0 ]]; then
  log "restored into new database: $TGT_DB"
  log "connect with: $TGT_SHOW"
else
  log "restored into $TGT_SHOW"
fi
