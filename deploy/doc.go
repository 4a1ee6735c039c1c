// Package deploy holds the Docker Compose deployment (compose.yaml at the root, the proxy
// and gateway configuration here) and the test that checks it.
package deploy
