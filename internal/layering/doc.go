// Package layering holds the import-rule test of the repository: which
// layer may import which. It has no code of its own.
package layering
