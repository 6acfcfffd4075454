# Shared by run.sh and test.sh: system packages and a project-local PostgreSQL cluster.
# PostgreSQL refuses to run as root, so as root the cluster runs as the `postgres` user.

HUBROUTE_APT_PACKAGES="postgresql libpq-dev libcurl4-openssl-dev libssl-dev"

log() { printf '==> %s\n' "$*" >&2; }

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

ensure_system_packages() {
    local missing=()
    local package
    for package in $HUBROUTE_APT_PACKAGES; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
    done
    if [ "${#missing[@]}" -gt 0 ]; then
        log "installing system packages: ${missing[*]}"
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
    fi
}

pg_bin() {
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
    [ -n "$dir" ] || { log "PostgreSQL server binaries not found under /usr/lib/postgresql"; return 1; }
    printf '%s\n' "$dir"
}

# glibc's allocator settings for PostgreSQL and the service, given as GLIBC_TUNABLES to each
# (deploy/ sets the same in production). By default glibc hands large freed blocks back to the
# kernel (unmapping them, or trimming the heap's top) and the next statement faults them in again
# page by page: a year's product export cost PostgreSQL about 1,400 page faults, a fifth of its
# time, and the service about 500. With blocks under 16 MB taken from the heap and up to 32 MB of
# free heap kept, neither faults after its first requests. A process keeps, at most, the
# largest working set it has had, up to 32 MB (per allocator arena). Set it empty to run both
# with glibc's defaults (to compare).
HUBROUTE_MALLOC_TUNABLES=${HUBROUTE_MALLOC_TUNABLES-glibc.malloc.mmap_threshold=16777216:glibc.malloc.trim_threshold=33554432}

# Runs a PostgreSQL server command as the cluster's owner.
as_pg_owner() {
    if [ "$(id -u)" = 0 ]; then
        local quoted
        quoted=$(printf '%q ' "$@")
        su postgres -s /bin/sh -c "$quoted"
    else
        "$@"
    fi
}

port_in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# port_busy PORT: something listens on it, or any socket still holds it as its local port (an
# outgoing connection's ephemeral port, a TIME-WAIT): a server could not bind it. For picking a
# free port; port_in_use alone misses the second kind.
port_busy() {
    port_in_use "$1" && return 0
    local hex
    hex=$(printf ':%04X' "$1")
    awk -v port="$hex" 'substr($2, length($2) - 4) == port { found = 1 } END { exit !found }' \
        /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# start_cluster DIR PORT [throwaway|durable [EXTRA_OPTIONS]]: creates the cluster on first use,
# starts it, waits until it accepts connections. A throwaway cluster trades durability for speed
# (tests only). EXTRA_OPTIONS are more server options (`-c name=value ...`).
start_cluster() {
    local dir=$1 port=$2 mode=${3:-durable} extra=${4:-}
    local bin
    bin=$(pg_bin)
    if [ ! -f "$dir/PG_VERSION" ]; then
        log "creating PostgreSQL cluster in $dir"
        mkdir -p "$dir"
        if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$dir"; fi
        chmod 700 "$dir"
        as_pg_owner "$bin/initdb" -D "$dir" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
    fi
    if as_pg_owner "$bin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
        log "PostgreSQL already running from $dir"
    else
        if port_in_use "$port"; then
            log "port $port is taken by another program; set a different port and retry"
            return 1
        fi
        local options="-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=400"
        if [ "$mode" = throwaway ]; then
            options="$options -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        fi
        if [ -n "$extra" ]; then options="$options $extra"; fi
        log "starting PostgreSQL on 127.0.0.1:$port"
        as_pg_owner env GLIBC_TUNABLES="$HUBROUTE_MALLOC_TUNABLES" "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 \
            -o "$options" start >/dev/null
    fi
    local tries=0
    until "$bin/pg_isready" -q -h 127.0.0.1 -p "$port"; do
        tries=$((tries + 1))
        [ "$tries" -lt 60 ] || { log "PostgreSQL did not become ready; see $dir/server.log"; return 1; }
        sleep 1
    done
}

stop_cluster() {
    local dir=$1
    [ -f "$dir/PG_VERSION" ] || return 0
    as_pg_owner "$(pg_bin)/pg_ctl" -D "$dir" -m fast -w stop >/dev/null 2>&1 || true
}

# create_database PORT NAME: creates the database unless it exists.
create_database() {
    local port=$1 name=$2
    if ! psql -h 127.0.0.1 -p "$port" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$name'" postgres | grep -q 1; then
        psql -h 127.0.0.1 -p "$port" -U postgres -qc "CREATE DATABASE \"$name\"" postgres
    fi
}

# A data folder the `postgres` user can reach: the project folder when its parents allow it.
cluster_dir() {
    local preferred=$1 fallback=$2
    mkdir -p "$(dirname "$preferred")"
    if [ "$(id -u)" != 0 ] || su postgres -s /bin/sh -c "test -x '$(dirname "$preferred")'" 2>/dev/null; then
        printf '%s\n' "$preferred"
    else
        printf '%s\n' "$fallback"
    fi
}
