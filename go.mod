module github.com/switchboard/switchboard

go 1.26.8

require (
	github.com/goccy/go-yaml v1.18.0
	go.uber.org/zap v1.27.0
)

require go.uber.org/multierr v1.10.0 // indirect
