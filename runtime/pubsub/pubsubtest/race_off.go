//go:build !race

package pubsubtest

const raceEnabled = false
