module github.com/memwatch/memwatch/e2e

go 1.26.0
