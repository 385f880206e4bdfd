module github.com/checkpointd/checkpointd

go 1.26.8
