// Builds the CloudEvents conformance CLI v0.2.0 for the e2e tests; see ../build.sh.
module github.com/funcd/funcd/tools/cloudevents

go 1.26.0

require github.com/cloudevents/conformance v0.2.0

require (
	github.com/inconshreveable/mousetrap v1.0.0 // indirect
	github.com/spf13/cobra v0.0.5 // indirect
	github.com/spf13/pflag v1.0.3 // indirect
	gopkg.in/yaml.v2 v2.4.0 // indirect
)
