#!/usr/bin/env bash
# Makes sure the PostgreSQL and MariaDB servers the tests use are reachable:
# starts them when installed and stopped, installs them with apt-get when
# missing (as root). Safe to run repeatedly.
set -euo pipefail

log() { printf 'services: %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi; }

pg_ready() { pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null || psql -h 127.0.0.1 -U postgres -Atc 'select 1' >/dev/null 2>&1; }
my_ready() { mariadb -h127.0.0.1 -uroot -e 'select 1' >/dev/null 2>&1 || mysql -h127.0.0.1 -uroot -e 'select 1' >/dev/null 2>&1; }

apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then as_root apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

wait_for() { # name check-fn
  for _ in $(seq 1 60); do "$2" && return 0; sleep 1; done
  log "$1 did not become ready"; return 1
}

# --- PostgreSQL ---------------------------------------------------------
if ! pg_ready; then
  if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
    log "installing PostgreSQL"
    apt_install postgresql postgresql-client
  fi
  ver=$(ls /etc/postgresql | sort -V | tail -n 1)
  conf=/etc/postgresql/$ver/main
  # Trust auth on loopback, as the tests expect (a fresh install uses peer/scram).
  if ! grep -q '^host all all 127.0.0.1/32 trust' "$conf/pg_hba.conf" 2>/dev/null; then
    as_root sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\nlocal all all trust' "$conf/pg_hba.conf"
  fi
  grep -q "^listen_addresses" "$conf/postgresql.conf" || echo "listen_addresses = '127.0.0.1'" | as_root tee -a "$conf/postgresql.conf" >/dev/null
  log "starting PostgreSQL $ver"
  as_root pg_ctlcluster --skip-systemctl-redirect "$ver" main start || as_root pg_ctlcluster --skip-systemctl-redirect "$ver" main restart || true
  wait_for PostgreSQL pg_ready
fi

# --- MariaDB ------------------------------------------------------------
if ! my_ready; then
  if ! command -v mariadbd >/dev/null 2>&1 && [ ! -x /usr/sbin/mariadbd ]; then
    log "installing MariaDB"
    apt_install mariadb-server mariadb-client
  fi
  log "starting MariaDB"
  as_root mkdir -p /run/mysqld && as_root chown mysql:mysql /run/mysqld 2>/dev/null || true
  as_root start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- --user=mysql --bind-address=127.0.0.1 || true
  wait_for MariaDB my_ready
  # root over TCP with an empty password, as the tests expect.
  mariadb -uroot -e "ALTER USER 'root'@'localhost' IDENTIFIED VIA mysql_native_password USING PASSWORD(''); FLUSH PRIVILEGES;" 2>/dev/null || true
fi

pg_ready && log "PostgreSQL ready on 127.0.0.1:5432"
my_ready && log "MariaDB ready on 127.0.0.1:3306"
