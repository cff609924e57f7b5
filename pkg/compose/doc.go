// Package compose converts between compose files and forge.
//
// [Import] reads compose files and writes the forge.hcl that builds their
// images, each once however many services share it, and runs their
// services, reporting every compose key it could not carry over.
//
// [Export] writes a compose file from a runtime manifest: every service runs
// the image forge built for it, pinned by digest.
package compose
