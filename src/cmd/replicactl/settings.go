package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/replicasd/replicasd/src/client"
)

// Environment variables for the connection settings.
const (
	envServer = "REPLICACTL_SERVER"
	envCert   = "REPLICACTL_CERT"
	envKey    = "REPLICACTL_KEY"
	envCA     = "REPLICACTL_CA"
	envConfig = "REPLICACTL_CONFIG"
)

// fileSettings is the config file: $XDG_CONFIG_HOME/replicactl/config.yaml.
type fileSettings struct {
	Server string `json:"server"`
	Cert   string `json:"cert"`
	Key    string `json:"key"`
	CA     string `json:"ca"`
}

// target is where and as whom a command talks: the resolved settings and
// where each came from, for error messages.
type target struct {
	server, cert, key, ca string
	// from maps a setting ("server", "cert", "key", "ca") to its source,
	// e.g. "--cert" or "REPLICACTL_CERT".
	from map[string]string
}

// setting is one connection setting with its three sources.
type setting struct {
	name, what, flag, env string
}

var settings = []setting{
	{name: "server", what: "server URL", flag: "--server", env: envServer},
	{name: "cert", what: "client certificate", flag: "--cert", env: envCert},
	{name: "key", what: "client key", flag: "--key", env: envKey},
	{name: "ca", what: "CA bundle", flag: "--ca", env: envCA},
}

// resolveTarget applies the precedence flags > environment > config file
// and reports every missing required setting at once.
func resolveTarget(o *options, env environment) (target, error) {
	path, explicit := configPath(o, env)
	file, err := readConfigFile(path, explicit, env)
	if err != nil {
		return target{}, err
	}
	flagValues := map[string]string{"server": o.server, "cert": o.cert, "key": o.key, "ca": o.ca}
	fileValues := map[string]string{"server": file.Server, "cert": file.Cert, "key": file.Key, "ca": file.CA}

	t := target{from: map[string]string{}}
	values := map[string]*string{"server": &t.server, "cert": &t.cert, "key": &t.key, "ca": &t.ca}
	var missing []string
	for _, s := range settings {
		switch {
		case flagValues[s.name] != "":
			*values[s.name], t.from[s.name] = flagValues[s.name], s.flag
		case env.getenv(s.env) != "":
			*values[s.name], t.from[s.name] = env.getenv(s.env), s.env
		case fileValues[s.name] != "":
			*values[s.name], t.from[s.name] = fileValues[s.name], fmt.Sprintf("%q in %s", s.name+":", path)
		case s.name != "ca": // without a CA the system's trust store is used
			missing = append(missing, fmt.Sprintf("  %s: set %s, %s, or %q in %s", s.what, s.flag, s.env, s.name+":", displayPath(path)))
		}
	}
	if len(missing) > 0 {
		return target{}, usagef("missing connection settings:\n%s", strings.Join(missing, "\n"))
	}
	return t, nil
}

// configPath returns the config file to read and whether the user named it
// (then it must exist).
func configPath(o *options, env environment) (string, bool) {
	if o.config != "" {
		return o.config, true
	}
	if p := env.getenv(envConfig); p != "" {
		return p, true
	}
	if xdg := env.getenv("XDG_CONFIG_HOME"); filepath.IsAbs(xdg) {
		return filepath.Join(xdg, "replicactl", "config.yaml"), false
	}
	if home := env.getenv("HOME"); home != "" {
		return filepath.Join(home, ".config", "replicactl", "config.yaml"), false
	}
	return "", false
}

// displayPath names the config file in messages even when none can be
// found (no HOME).
func displayPath(path string) string {
	if path == "" {
		return "$XDG_CONFIG_HOME/replicactl/config.yaml"
	}
	return path
}

// readConfigFile reads the config file strictly (unknown keys are typos)
// and resolves its relative paths against the file's directory.
func readConfigFile(path string, explicit bool, env environment) (fileSettings, error) {
	if path == "" {
		return fileSettings{}, nil
	}
	data, err := os.ReadFile(path) // #nosec G304 -- the user's own config file, named by them or the default location
	if errors.Is(err, fs.ErrNotExist) && !explicit {
		return fileSettings{}, nil
	}
	if err != nil {
		return fileSettings{}, usagef("reading the config file: %v", err)
	}
	var f fileSettings
	if err := yaml.UnmarshalStrict(data, &f); err != nil {
		return fileSettings{}, usagef("config file %s: %v (the keys are server, cert, key and ca)", path, err)
	}
	dir := filepath.Dir(path)
	for _, p := range []*string{&f.Cert, &f.Key, &f.CA} {
		*p = resolvePath(*p, dir, env.getenv("HOME"))
	}
	return f, nil
}

// resolvePath expands a leading ~/ and makes a relative path relative to
// dir.
func resolvePath(p, dir, home string) string {
	switch {
	case p == "":
		return ""
	case strings.HasPrefix(p, "~/") && home != "":
		return filepath.Join(home, p[2:])
	case filepath.IsAbs(p):
		return p
	}
	return filepath.Join(dir, p)
}

// newClient resolves the settings and builds the client; a setting that
// cannot be used (bad URL, unreadable file) is a usage error naming where
// it came from.
func (c *command) newClient() (*client.Client, error) {
	t, err := resolveTarget(c.opts, c.env)
	if err != nil {
		return nil, err
	}
	c.target = t
	timeout := c.opts.timeout
	if timeout == 0 {
		timeout = -1 // the client's "no timeout"
	}
	cl, err := client.New(client.Config{
		Server: t.server, CertFile: t.cert, KeyFile: t.key, CAFile: t.ca,
		Timeout: timeout, UserAgent: "replicactl/" + versionString(),
	})
	if err != nil {
		return nil, usagef("%v\n  (%s)", err, t.describe())
	}
	c.target.server = cl.Server()
	return cl, nil
}

// describe lists where each setting came from.
func (t target) describe() string {
	var parts []string
	for _, s := range settings {
		if from, ok := t.from[s.name]; ok {
			parts = append(parts, s.name+" from "+from)
		}
	}
	if _, ok := t.from["ca"]; !ok {
		parts = append(parts, "no ca: the system's trust store")
	}
	return strings.Join(parts, ", ")
}
