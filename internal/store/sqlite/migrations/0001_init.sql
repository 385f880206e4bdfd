-- The initial schema. Ids are the API's 24-hex ObjectIDs; times are Unix
-- seconds, UTC.

-- +goose Up
CREATE TABLE organizations (
    id      TEXT    NOT NULL PRIMARY KEY CHECK (length(id) = 24),
    name    TEXT    NOT NULL,
    created INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE projects (
    id      TEXT    NOT NULL PRIMARY KEY CHECK (length(id) = 24),
    org_id  TEXT    NOT NULL REFERENCES organizations (id),
    name    TEXT    NOT NULL,
    created INTEGER NOT NULL
) WITHOUT ROWID;

CREATE INDEX projects_org ON projects (org_id);

-- pk is a compact surrogate so that every checkpoint row and index entry
-- carries an integer rather than a 24-byte id. Shards and config are JSON:
-- a cluster is read whole, once per request, and never queried by them.
CREATE TABLE clusters (
    pk               INTEGER NOT NULL PRIMARY KEY,
    id               TEXT    NOT NULL UNIQUE CHECK (length(id) = 24),
    group_id         TEXT    NOT NULL REFERENCES projects (id),
    name             TEXT    NOT NULL,
    type             TEXT    NOT NULL,
    mongodb_version  TEXT    NOT NULL,
    backup           TEXT    NOT NULL,
    replica_set_name TEXT    NOT NULL,
    shards           TEXT    NOT NULL,
    config           TEXT    NOT NULL,
    created          INTEGER NOT NULL,
    UNIQUE (group_id, name)
);

-- A cluster's checkpoints are numbered by seq, densely and in (ts, id)
-- order, so that page N is a range of the primary key starting at
-- min(seq) + offset and the total is max(seq) - min(seq) + 1: both are
-- seeks in this one b-tree, whatever the page depth and the table size.
-- WITHOUT ROWID stores the rows in that b-tree, so a page is one
-- contiguous read.
CREATE TABLE checkpoints (
    cluster    INTEGER NOT NULL REFERENCES clusters (pk),
    seq        INTEGER NOT NULL,
    id         TEXT    NOT NULL UNIQUE CHECK (length(id) = 24),
    started    INTEGER NOT NULL,
    completed  INTEGER,
    ts         INTEGER NOT NULL,
    restorable INTEGER NOT NULL,
    parts      BLOB    NOT NULL,
    PRIMARY KEY (cluster, seq)
) WITHOUT ROWID;

-- +goose Down
DROP TABLE checkpoints;
DROP TABLE clusters;
DROP TABLE projects;
DROP TABLE organizations;
