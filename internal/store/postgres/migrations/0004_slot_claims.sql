-- Leases on checkpoint slots, so that several servers sharing the database
-- take each scheduled checkpoint once (see ClaimSlot in lease.go).
--
-- A row is one claim of one slot of one cluster: who holds it and until
-- when (Unix milliseconds of the wall clock). A slot is done once a
-- checkpoint of that cluster has the slot as its timestamp; AddCheckpoint
-- stores a checkpoint in one transaction, so a holder that dies leaves
-- either the whole checkpoint (the slot is done) or none (its claim
-- expires and the slot can be taken over). Claims are kept a day past
-- their expiry, then every claim deletes them through the expires index.

-- +goose Up
CREATE TABLE slot_claims (
    cluster_id text COLLATE "C" NOT NULL CHECK (length(cluster_id) = 24),
    slot       bigint           NOT NULL,
    owner      text             NOT NULL,
    expires    bigint           NOT NULL,
    CONSTRAINT slot_claims_pkey PRIMARY KEY (cluster_id, slot)
);

CREATE INDEX slot_claims_expires ON slot_claims (expires);

-- +goose Down
DROP TABLE slot_claims;
