#!/usr/bin/env node
/** The `codecarbon` command. CONTRACT STUB: the CLI work fills this in. */
process.stderr.write("codecarbon: the command line is not built yet\n");
process.exitCode = 1;
