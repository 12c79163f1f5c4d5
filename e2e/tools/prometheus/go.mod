module github.com/memwatch/memwatch/e2e/tools/prometheus

go 1.26.0
