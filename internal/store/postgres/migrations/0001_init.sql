-- The initial schema, the SQLite store's (internal/store/sqlite/migrations)
-- in PostgreSQL's types. Ids are the API's 24-hex ObjectIDs; times are Unix
-- seconds, UTC. Ids, names and client ids collate as "C", so that ORDER BY
-- is byte order, as in SQLite, whatever the database's locale.

-- +goose Up
CREATE TABLE organizations (
    id      text COLLATE "C" NOT NULL CHECK (length(id) = 24),
    name    text             NOT NULL,
    created bigint           NOT NULL,
    CONSTRAINT organizations_pkey PRIMARY KEY (id)
);

CREATE TABLE projects (
    id      text COLLATE "C" NOT NULL CHECK (length(id) = 24),
    org_id  text COLLATE "C" NOT NULL,
    name    text             NOT NULL,
    created bigint           NOT NULL,
    CONSTRAINT projects_pkey PRIMARY KEY (id),
    CONSTRAINT projects_org_fkey FOREIGN KEY (org_id) REFERENCES organizations (id)
);

-- An organization's projects in id order: a scope of one organization
-- is a range of this index.
CREATE INDEX projects_org ON projects (org_id, id);

-- pk is a compact surrogate so that every checkpoint row and index entry
-- carries an integer rather than a 24-byte id. It comes from an identity
-- sequence, so a deleted cluster's pk is never handed out again. Shards
-- and config are JSON: a cluster is read whole, once per request, and
-- never queried by them.
CREATE TABLE clusters (
    pk               bigint GENERATED ALWAYS AS IDENTITY,
    id               text COLLATE "C" NOT NULL CHECK (length(id) = 24),
    group_id         text COLLATE "C" NOT NULL,
    name             text COLLATE "C" NOT NULL,
    type             text             NOT NULL,
    mongodb_version  text             NOT NULL,
    backup           text             NOT NULL,
    replica_set_name text             NOT NULL,
    shards           text             NOT NULL,
    config           text             NOT NULL,
    created          bigint           NOT NULL,
    CONSTRAINT clusters_pkey PRIMARY KEY (pk),
    CONSTRAINT clusters_id_key UNIQUE (id),
    CONSTRAINT clusters_group_name_key UNIQUE (group_id, name),
    CONSTRAINT clusters_group_fkey FOREIGN KEY (group_id) REFERENCES projects (id)
);

-- A cluster's checkpoints are numbered by seq, densely and in (ts, id)
-- order, so that page N is a range of the primary key starting at
-- min(seq) + offset and the total is max(seq) - min(seq) + 1: both are
-- seeks in this one b-tree, whatever the page depth and the table size.
-- Seqs need not start at 1: a checkpoint older than all others of its
-- cluster takes min(seq) - 1, and one in the middle shifts the shorter
-- side of the range by one.
--
-- The primary key is DEFERRABLE INITIALLY IMMEDIATE so that it is checked
-- at the end of each statement rather than row by row: the shift is then
-- one UPDATE seq = seq + 1 over a range, which an immediate check would
-- refuse as soon as it moved a row onto its neighbour's seq. Nothing
-- defers it further, and nothing uses it as an ON CONFLICT arbiter (the
-- store's inserts name the id's constraint).
CREATE TABLE checkpoints (
    cluster    bigint           NOT NULL,
    seq        bigint           NOT NULL,
    id         text COLLATE "C" NOT NULL CHECK (length(id) = 24),
    started    bigint           NOT NULL,
    completed  bigint,
    ts         bigint           NOT NULL,
    restorable boolean          NOT NULL,
    parts      bytea            NOT NULL,
    CONSTRAINT checkpoints_pkey PRIMARY KEY (cluster, seq) DEFERRABLE INITIALLY IMMEDIATE,
    CONSTRAINT checkpoints_id_key UNIQUE (id),
    CONSTRAINT checkpoints_cluster_fkey FOREIGN KEY (cluster) REFERENCES clusters (pk)
);

-- +goose Down
DROP TABLE checkpoints;
DROP TABLE clusters;
DROP TABLE projects;
DROP TABLE organizations;
