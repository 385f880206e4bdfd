-- The record of every scheduled checkpoint slot of a cluster: what became
-- of it (outcome), the checkpoint it stored (checkpoint_id, '' when none),
-- why it is not a clean success (reason, a code; detail, a sentence;
-- part, the part at fault) and the steps it went through (steps, JSON:
-- [{"k": kind, "at": Unix seconds, "p": part}]). One row per cluster and
-- slot (Unix seconds): the primary key is what keeps several instances
-- and agents from recording a slot twice. Rows are pruned with the
-- checkpoints, by slot time.

-- +goose Up
CREATE TABLE slots (
    cluster       INTEGER NOT NULL REFERENCES clusters (pk),
    slot          INTEGER NOT NULL,
    outcome       TEXT    NOT NULL,
    checkpoint_id TEXT    NOT NULL,
    reason        TEXT    NOT NULL,
    detail        TEXT    NOT NULL,
    part          TEXT    NOT NULL,
    steps         TEXT    NOT NULL,
    source        TEXT    NOT NULL,
    recorded      INTEGER NOT NULL,
    PRIMARY KEY (cluster, slot)
) WITHOUT ROWID;

-- Counts and lists filtered by outcome over a time range: a range of
-- this index per outcome.
CREATE INDEX slots_outcome ON slots (cluster, outcome, slot);
-- The slot of a checkpoint.
CREATE INDEX slots_checkpoint ON slots (checkpoint_id) WHERE checkpoint_id <> '';

-- +goose Down
DROP TABLE slots;
