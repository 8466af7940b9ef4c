package intake

import "time"

// SetStartWait shortens how long a request waits for Run in tests.
func SetStartWait(c *Connector, d time.Duration) { c.startWait = d }
