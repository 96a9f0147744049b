-- One database per service (each owns its schema and its Alembic migrations).
CREATE DATABASE roster;
CREATE DATABASE metrics;
CREATE DATABASE care;
CREATE DATABASE gateway;
