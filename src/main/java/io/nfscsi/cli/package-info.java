/** The command line: flags are parsed into one validated {@link io.nfscsi.cli.DriverConfig} and the driver starts. */
package io.nfscsi.cli;
