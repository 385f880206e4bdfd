-- Projects are found by name (GET /groups/byName/{name}): one index seek.

-- +goose Up
CREATE INDEX projects_name ON projects (name);

-- +goose Down
DROP INDEX projects_name;
