-- A cluster's epoch changes whenever a stored checkpoint of it may have
-- moved or gone: any DELETE, UPDATE or TRUNCATE of checkpoint rows, in
-- the transaction of the write. Inserts (appends at max(seq) + 1, and
-- checkpoints older than all others at min(seq) - 1) leave every existing
-- (seq, checkpoint) pair as it was, so they do not change it; a shift
-- does, being an UPDATE.
--
-- Readers in every server process cache pages of checkpoints by (cluster
-- pk, epoch, first seq, size), and single checkpoints with the (pk, epoch)
-- they were read at; a cached entry is right for as long as the cluster
-- keeps that epoch, which every request reads from the database.
-- Triggers keep the epoch, so that no writer can forget it: the store's
-- writes, another server's, the admin commands', and SQL by hand.
--
-- Epochs come from one sequence, so an epoch value is never given twice,
-- to any cluster: (pk, epoch) can never name two histories, even if a pk
-- were reused by hand. The checkpoint triggers are statement-level, with
-- transition tables: a prune or a shift of n rows changes the epoch once
-- per statement, not n times. Only inequality matters.
--
-- nextval() is not transactional, but the column's value is: a reader
-- sees a new epoch only with the commit that changed the rows.

-- +goose Up
CREATE SEQUENCE cluster_epoch;

ALTER TABLE clusters ADD COLUMN epoch bigint NOT NULL DEFAULT nextval('cluster_epoch');

-- +goose StatementBegin
CREATE FUNCTION checkpoints_delete_epoch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE clusters SET epoch = nextval('cluster_epoch')
    WHERE pk IN (SELECT cluster FROM old_rows);
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- A row moved to another cluster changes both clusters' epochs.
-- +goose StatementBegin
CREATE FUNCTION checkpoints_update_epoch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE clusters SET epoch = nextval('cluster_epoch')
    WHERE pk IN (SELECT cluster FROM old_rows UNION SELECT cluster FROM new_rows);
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION checkpoints_truncate_epoch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE clusters SET epoch = nextval('cluster_epoch');
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER checkpoints_delete_epoch AFTER DELETE ON checkpoints
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION checkpoints_delete_epoch();

CREATE TRIGGER checkpoints_update_epoch AFTER UPDATE ON checkpoints
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION checkpoints_update_epoch();

CREATE TRIGGER checkpoints_truncate_epoch AFTER TRUNCATE ON checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION checkpoints_truncate_epoch();

-- Cached checkpoints carry their cluster's id and group: changing either
-- voids them too.
-- +goose StatementBegin
CREATE FUNCTION clusters_identity_epoch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.epoch := nextval('cluster_epoch');
    RETURN NEW;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER clusters_identity_epoch BEFORE UPDATE OF id, group_id ON clusters
    FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id OR OLD.group_id IS DISTINCT FROM NEW.group_id)
    EXECUTE FUNCTION clusters_identity_epoch();

-- +goose Down
DROP TRIGGER clusters_identity_epoch ON clusters;
DROP FUNCTION clusters_identity_epoch();
DROP TRIGGER checkpoints_truncate_epoch ON checkpoints;
DROP TRIGGER checkpoints_update_epoch ON checkpoints;
DROP TRIGGER checkpoints_delete_epoch ON checkpoints;
DROP FUNCTION checkpoints_truncate_epoch();
DROP FUNCTION checkpoints_update_epoch();
DROP FUNCTION checkpoints_delete_epoch();
ALTER TABLE clusters DROP COLUMN epoch;
DROP SEQUENCE cluster_epoch;
