package customer

import "github.com/switchboard/switchboard/customer/storeconfig"

// Config configures the customer store (see storeconfig.Config).
type Config = storeconfig.Config

// Defaults of Config that callers name (the rest are in storeconfig).
const (
	DefaultBucket         = storeconfig.DefaultBucket
	DefaultProbableWindow = storeconfig.DefaultProbableWindow
)
