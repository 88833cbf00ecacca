#!/usr/bin/env bash
# Entrypoint of runbook/postgres (images/postgres/build.sh). It behaves like
# the official postgres image's entrypoint, so testcontainers-go's
# modules/postgres and its wait strategy work unchanged:
#   - `docker run IMAGE -c fsync=off` means `postgres -c fsync=off`;
#   - as root: make $PGDATA (0700) and /var/run/postgresql, owned by postgres,
#     then run again as postgres (setpriv, from util-linux);
#   - on an empty $PGDATA: initdb with superuser $POSTGRES_USER (default
#     postgres) and password $POSTGRES_PASSWORD (required unless
#     POSTGRES_HOST_AUTH_METHOD=trust), listen on all addresses, password
#     authentication for TCP; start a socket-only temporary server, create
#     $POSTGRES_DB, run /docker-entrypoint-initdb.d/* (*.sh, *.sql, *.sql.gz,
#     *.sql.xz) in name order, stop it;
#   - exec postgres. Both servers log to stdout/stderr, so "database system is
#     ready to accept connections" appears twice on a first start.
# Also read, as in the official image: POSTGRES_DB, POSTGRES_INITDB_ARGS,
# POSTGRES_INITDB_WALDIR, and *_FILE variants of POSTGRES_USER,
# POSTGRES_PASSWORD, POSTGRES_DB, POSTGRES_INITDB_ARGS.
set -Eeo pipefail

# file_env VAR [DEFAULT]: VAR from $VAR or from the file named by $VAR_FILE.
file_env() {
	local var=$1 fileVar="${1}_FILE" def=${2:-}
	if [[ -n ${!var:-} && -n ${!fileVar:-} ]]; then
		printf >&2 'error: both %s and %s are set (but are exclusive)\n' "$var" "$fileVar"
		exit 1
	fi
	local val=$def
	if [[ -n ${!var:-} ]]; then
		val=${!var}
	elif [[ -n ${!fileVar:-} ]]; then
		val=$(<"${!fileVar}")
	fi
	export "$var"="$val"
	unset "$fileVar"
}

setup_env() {
	file_env POSTGRES_PASSWORD
	file_env POSTGRES_USER postgres
	file_env POSTGRES_DB "$POSTGRES_USER"
	file_env POSTGRES_INITDB_ARGS
	: "${POSTGRES_HOST_AUTH_METHOD:=}"
	DATABASE_ALREADY_EXISTS=
	if [[ -s $PGDATA/PG_VERSION ]]; then
		DATABASE_ALREADY_EXISTS=true
	fi
}

create_dirs() {
	local uid
	uid=$(id -u)
	mkdir -p "$PGDATA"
	chmod 00700 "$PGDATA" || :
	mkdir -p /var/run/postgresql || :
	chmod 03775 /var/run/postgresql || :
	if [[ -n ${POSTGRES_INITDB_WALDIR:-} ]]; then
		mkdir -p "$POSTGRES_INITDB_WALDIR"
		[[ $uid == 0 ]] && find "$POSTGRES_INITDB_WALDIR" \! -user postgres -exec chown postgres '{}' +
		chmod 700 "$POSTGRES_INITDB_WALDIR"
	fi
	if [[ $uid == 0 ]]; then
		find "$PGDATA" \! -user postgres -exec chown postgres '{}' +
		find /var/run/postgresql \! -user postgres -exec chown postgres '{}' +
	fi
}

verify_minimum_env() {
	if [[ -z $POSTGRES_PASSWORD && $POSTGRES_HOST_AUTH_METHOD != trust ]]; then
		cat >&2 <<-'EOE'
			Error: Database is uninitialized and superuser password is not specified.
			       You must specify POSTGRES_PASSWORD to a non-empty value for the
			       superuser. For example, "-e POSTGRES_PASSWORD=password" on "docker run".

			       You may also use "POSTGRES_HOST_AUTH_METHOD=trust" to allow all
			       connections without a password. This is *not* recommended.

		EOE
		exit 1
	fi
	if [[ $POSTGRES_HOST_AUTH_METHOD == trust ]]; then
		cat >&2 <<-'EOWARN'
			********************************************************************************
			WARNING: POSTGRES_HOST_AUTH_METHOD has been set to "trust". This will allow
			         anyone with access to the Postgres port to access your database without
			         a password, even if POSTGRES_PASSWORD is set.
			********************************************************************************
		EOWARN
	fi
}

init_database_dir() {
	local args=(--username="$POSTGRES_USER")
	if [[ -n ${POSTGRES_INITDB_WALDIR:-} ]]; then
		args+=(--waldir="$POSTGRES_INITDB_WALDIR")
	fi
	# POSTGRES_INITDB_ARGS is word-split on purpose, as in the official image.
	if [[ -n $POSTGRES_PASSWORD ]]; then
		# A pwfile on a pipe: the password never appears in a process list.
		# The <(...) must be on initdb's own command line: bash closes it when
		# the command it appears in ends.
		# shellcheck disable=SC2086
		initdb "${args[@]}" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") $POSTGRES_INITDB_ARGS
	else
		# shellcheck disable=SC2086
		initdb "${args[@]}" $POSTGRES_INITDB_ARGS
	fi
}

setup_hba_conf() {
	local method=$POSTGRES_HOST_AUTH_METHOD
	if [[ -z $method ]]; then
		method=$(postgres -C password_encryption -D "$PGDATA" 2>/dev/null || echo scram-sha-256)
	fi
	{
		printf '\n'
		if [[ $method == trust ]]; then
			printf '# warning trust is enabled for all connections\n'
		fi
		printf 'host all all all %s\n' "$method"
	} >>"$PGDATA/pg_hba.conf"
}

temp_server_start() {
	# Socket only: nothing can connect over TCP until initialisation is over.
	PGUSER=$POSTGRES_USER pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -p ${PGPORT:-5432}" -w start
}

temp_server_stop() {
	PGUSER=$POSTGRES_USER pg_ctl -D "$PGDATA" -m fast -w stop
}

psql_init() {
	psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc "$@"
}

create_db() {
	[[ $POSTGRES_DB == postgres ]] && return 0
	local exists
	exists=$(psql_init --dbname postgres --set db="$POSTGRES_DB" --tuples-only --no-align <<-'EOSQL'
		SELECT 1 FROM pg_database WHERE datname = :'db' ;
	EOSQL
	)
	if [[ -z $exists ]]; then
		psql_init --dbname postgres --set db="$POSTGRES_DB" <<-'EOSQL'
			CREATE DATABASE :"db" ;
		EOSQL
		printf '\n'
	fi
}

process_init_files() {
	local f
	printf '\n'
	for f in "$@"; do
		case "$f" in
			*.sh)
				if [[ -x $f ]]; then
					printf '%s: running %s\n' "$0" "$f"
					"$f"
				else
					printf '%s: sourcing %s\n' "$0" "$f"
					# shellcheck disable=SC1090
					. "$f"
				fi
				;;
			*.sql) printf '%s: running %s\n' "$0" "$f"; psql_init --dbname "$POSTGRES_DB" -f "$f"; printf '\n' ;;
			*.sql.gz) printf '%s: running %s\n' "$0" "$f"; gunzip -c "$f" | psql_init --dbname "$POSTGRES_DB"; printf '\n' ;;
			*.sql.xz) printf '%s: running %s\n' "$0" "$f"; xz -dc "$f" | psql_init --dbname "$POSTGRES_DB"; printf '\n' ;;
			*) printf '%s: ignoring %s\n' "$0" "$f" ;;
		esac
		printf '\n'
	done
}

main() {
	if [[ ${1:0:1} == '-' ]]; then
		set -- postgres "$@"
	fi
	if [[ $1 != postgres ]]; then
		exec "$@"
	fi

	setup_env
	create_dirs
	if [[ $(id -u) == 0 ]]; then
		# Run this script again as postgres (keeps the environment).
		exec setpriv --reuid=postgres --regid=postgres --init-groups "${BASH_SOURCE[0]}" "$@"
	fi

	if [[ -z $DATABASE_ALREADY_EXISTS ]]; then
		verify_minimum_env
		# Fails early, as in the official image, if the directory is unreadable.
		ls /docker-entrypoint-initdb.d/ >/dev/null
		init_database_dir
		setup_hba_conf
		export PGPASSWORD=${PGPASSWORD:-$POSTGRES_PASSWORD}
		temp_server_start
		create_db
		shopt -s nullglob
		process_init_files /docker-entrypoint-initdb.d/*
		shopt -u nullglob
		temp_server_stop
		unset PGPASSWORD
		printf '\nPostgreSQL init process complete; ready for start up.\n\n'
	else
		printf '\nPostgreSQL Database directory appears to contain a database; Skipping initialization\n\n'
	fi
	exec "$@"
}

main "$@"
