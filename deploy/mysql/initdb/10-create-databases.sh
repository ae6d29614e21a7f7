#!/bin/bash
# Creates policyflow's and Temporal's databases and users. The mysql image runs this once, when
# the data volume is empty (docker-entrypoint-initdb.d), against a server that listens on its
# socket only. The passwords come from the mysql service's environment (docker-compose.yml).
#
# After the first start, changing a password in .env changes nothing here: change it in MySQL
# too, e.g. docker compose exec mysql mysql -uroot -p -e "ALTER USER 'policyflow'@'%' IDENTIFIED BY '...'"
#
# The image sources this file when it is not executable, so it sets no shell options and never
# calls exit: a failure still aborts the initialisation, loudly.

# sql_string VALUE: VALUE as a MySQL string literal ('...', with \ and ' escaped).
sql_string() {
	local escaped
	escaped=$(printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e "s/'/''/g")
	printf "'%s'" "$escaped"
}

: "${POLICYFLOW_DB_PASSWORD:?is not set for the mysql service}"
: "${TEMPORAL_DB_PASSWORD:?is not set for the mysql service}"
policyflow_password=$(sql_string "$POLICYFLOW_DB_PASSWORD")
temporal_password=$(sql_string "$TEMPORAL_DB_PASSWORD")

# run_sql: stdin to the init server as root. Sourced, the image's own helper is there (it keeps
# the root password off the command line); run as a program, fall back to the client.
run_sql() {
	if declare -F docker_process_sql >/dev/null; then
		docker_process_sql --database=mysql
	else
		mysql --protocol=socket --user=root --password="${MYSQL_ROOT_PASSWORD}" --database=mysql
	fi
}

echo "10-create-databases.sh: creating databases policyflow, temporal, temporal_visibility"
run_sql <<SQL
-- policyflow's records: the long-term register.
CREATE DATABASE IF NOT EXISTS \`policyflow\` CHARACTER SET utf8mb4;
CREATE USER IF NOT EXISTS 'policyflow'@'%' IDENTIFIED BY ${policyflow_password};
GRANT ALL PRIVILEGES ON \`policyflow\`.* TO 'policyflow'@'%';

-- Temporal: persistence and visibility (schemas are set up by the temporal-schema service).
CREATE DATABASE IF NOT EXISTS \`temporal\` CHARACTER SET utf8mb4;
CREATE DATABASE IF NOT EXISTS \`temporal_visibility\` CHARACTER SET utf8mb4;
CREATE USER IF NOT EXISTS 'temporal'@'%' IDENTIFIED BY ${temporal_password};
GRANT ALL PRIVILEGES ON \`temporal\`.* TO 'temporal'@'%';
GRANT ALL PRIVILEGES ON \`temporal_visibility\`.* TO 'temporal'@'%';

FLUSH PRIVILEGES;
SQL
echo "10-create-databases.sh: done"
