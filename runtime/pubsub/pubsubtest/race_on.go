//go:build race

package pubsubtest

const raceEnabled = true
