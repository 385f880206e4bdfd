package admin

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
)

// ParseDriver parses "agent" or "simulated" (any case; the stored names
// AGENT and SIMULATED too).
func ParseDriver(s string) (backup.Driver, error) {
	switch d := backup.Driver(strings.ToUpper(strings.TrimSpace(s))); d {
	case backup.DriverAgent, backup.DriverSimulated:
		return d, nil
	}
	return "", backup.AttrErrorf("backup.driver", backup.CodeInvalidAttribute,
		"Unknown driver %s: use agent (a backup agent reports the checkpoints) or simulated (the server takes them of a simulated cluster).",
		strconv.Quote(s))
}

// ParseInterval parses a checkpoint interval in minutes: a whole number,
// optionally followed by "m" ("15", "15m"), or "off" for none (as "0").
// Only the number is checked here: which intervals a cluster may have
// (15, 30 or 60 minutes, sharded clusters only) is the domain's rule,
// checked by backup.Cluster.Validate with the service's messages.
func ParseInterval(s string) (time.Duration, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	if t == "off" {
		return 0, nil
	}
	n, err := strconv.Atoi(strings.TrimSuffix(t, "m"))
	// Beyond maxMinutes the Duration would wrap: 9007199254741007 minutes
	// (2^53 + 15) would be taken as 15.
	if err != nil || n < 0 || n > maxMinutes {
		return 0, backup.AttrErrorf("clusterCheckpointIntervalMin", backup.CodeInvalidAttribute,
			"Invalid attribute %s specified: %s is not a number of minutes; use 15, 30, 60, or off (0) for no checkpoints.",
			"clusterCheckpointIntervalMin", strconv.Quote(s))
	}
	return time.Duration(n) * time.Minute, nil
}

// maxMinutes is the largest number of minutes a time.Duration holds.
const maxMinutes = int(math.MaxInt64 / time.Minute)

// ParseObjective parses a recovery point objective in minutes: a whole
// number, optionally followed by "m" ("60", "60m"), or "off" for none (as
// "0"). Which objectives a cluster may have (whole minutes up to 30 days,
// no shorter than its checkpoint interval) is the domain's rule
// (backup.Cluster.Validate).
func ParseObjective(s string) (time.Duration, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	if t == "off" {
		return 0, nil
	}
	n, err := strconv.Atoi(strings.TrimSuffix(t, "m"))
	if err != nil || n < 0 || n > maxMinutes {
		return 0, backup.AttrErrorf("recoveryPointObjectiveMin", backup.CodeInvalidAttribute,
			"Invalid attribute %s specified: %s is not a number of minutes; use a number such as 60, or off (0) for none.",
			"recoveryPointObjectiveMin", strconv.Quote(s))
	}
	return time.Duration(n) * time.Minute, nil
}
