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
    cluster       bigint NOT NULL REFERENCES clusters (pk),
    slot          bigint  NOT NULL,
    outcome       text NOT NULL,
    checkpoint_id text COLLATE "C" NOT NULL,
    reason        text NOT NULL,
    detail        text NOT NULL,
    part          text NOT NULL,
    steps         text NOT NULL,
    source        text NOT NULL,
    recorded      bigint  NOT NULL,
    PRIMARY KEY (cluster, slot)
);

-- Counts and lists filtered by outcome over a time range: a range of
-- this index per outcome.
CREATE INDEX slots_outcome ON slots (cluster, outcome, slot);
-- The slot of a checkpoint.
CREATE INDEX slots_checkpoint ON slots (checkpoint_id) WHERE checkpoint_id <> '';

-- +goose Down
DROP TABLE slots;
