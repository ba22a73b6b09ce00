package certs

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/util/validation"
)

// DevCAName is the common name of the CA that `replicasd certs` creates.
const DevCAName = "replicasd development CA"

const (
	caBase     = "ca"
	serverBase = "server"
)

// defaultClient is issued when no --client is given.
var defaultClient = clientSpec{name: "admin", orgs: []string{"sre"}}

// clientNamePattern keeps NAME a plain file name (no path separators, no
// leading dot) and a sensible common name (at most 64 characters, RFC 5280).
var clientNamePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

const usageHeader = `Usage: replicasd certs --out DIR [--server-name NAME ...] [--client NAME[:ORG[,ORG...]] ...] [--force]

Writes a development CA, a server certificate and client certificates
(ECDSA P-256) into DIR, creating it if needed:

  ca.crt, ca.key          the CA, valid 1 year; ca.crt is the server's --client-ca-file
                          and the CA clients trust
  server.crt, server.key  the server certificate, valid 90 days, for localhost,
                          127.0.0.1, ::1 and every --server-name
  NAME.crt, NAME.key      a client certificate per --client, valid 90 days; NAME is
                          the user (CN), ORG the groups (O); default admin:sre

Keep ca.key, and keep it private (the server never needs it): when DIR already
holds ca.crt and ca.key that CA is reused, so more clients can be issued later
and stay trusted by the running server, for example:

  replicasd certs --out DIR --server=false --client bob:dev

Delete ca.crt and ca.key to start a new CA. Existing server and client files
are never overwritten unless --force is given.

Flags:
`

type commandOptions struct {
	out         string
	serverNames []string
	clients     []string
	server      bool
	force       bool
}

type clientSpec struct {
	name string
	orgs []string
}

// output is one file to write, with what to tell the user about it.
type output struct {
	path, note string
	data       []byte
	mode       os.FileMode
}

// Command runs `replicasd certs`; args are the arguments after "certs". It
// prints what it wrote to stdout and notes to stderr, and writes nothing when
// the arguments are invalid or a file would be overwritten without --force.
func Command(args []string, stdout, stderr io.Writer) error {
	var o commandOptions
	flags := pflag.NewFlagSet("replicasd certs", pflag.ContinueOnError)
	// Errors are returned to the caller, which prints them once.
	flags.SetOutput(io.Discard)
	flags.StringVar(&o.out, "out", "", "directory to write the files to (required)")
	flags.StringSliceVar(&o.serverNames, "server-name", nil, "extra DNS name or IP address for the server certificate (repeatable)")
	flags.StringArrayVar(&o.clients, "client", nil, "client certificate to issue, as NAME[:ORG[,ORG...]] (repeatable; default admin:sre)")
	flags.BoolVar(&o.server, "server", true, "write server.crt and server.key; --server=false issues client certificates only")
	flags.BoolVar(&o.force, "force", false, "overwrite existing server and client files")

	if err := flags.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			fmt.Fprint(stdout, usageHeader, flags.FlagUsages())
			return nil
		}
		return fmt.Errorf("%w (see replicasd certs --help)", err)
	}
	if flags.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q (see replicasd certs --help)", flags.Args())
	}
	clients, err := o.validate()
	if err != nil {
		return err
	}
	return o.run(clients, stdout, stderr)
}

// validate reports every problem with the options at once.
func (o *commandOptions) validate() ([]clientSpec, error) {
	var errs []error
	if o.out == "" {
		errs = append(errs, errors.New("--out is required"))
	}
	for _, name := range o.serverNames {
		if err := validateServerName(name); err != nil {
			errs = append(errs, err)
		}
	}
	var clients []clientSpec
	seen := map[string]bool{}
	for _, arg := range o.clients {
		c, err := parseClient(arg)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		// Lower case, because NAME.crt and name.crt collide on some file systems.
		key := strings.ToLower(c.name)
		if seen[key] {
			errs = append(errs, fmt.Errorf("--client %q: client %q given more than once", arg, c.name))
			continue
		}
		seen[key] = true
		clients = append(clients, c)
	}
	if len(o.clients) == 0 {
		clients = []clientSpec{defaultClient}
	}
	return clients, errors.Join(errs...)
}

func validateServerName(name string) error {
	if net.ParseIP(name) != nil {
		return nil
	}
	check := validation.IsDNS1123Subdomain
	if strings.HasPrefix(name, "*.") {
		check = validation.IsWildcardDNS1123Subdomain
	}
	if msgs := check(name); len(msgs) > 0 {
		return fmt.Errorf("--server-name %q: not an IP address, and not a DNS name: %s", name, strings.Join(msgs, "; "))
	}
	return nil
}

// parseClient parses NAME[:ORG[,ORG...]]. Only the first colon separates, so
// groups such as system:masters work.
func parseClient(arg string) (clientSpec, error) {
	name, orgList, hasOrgs := strings.Cut(arg, ":")
	if !clientNamePattern.MatchString(name) {
		return clientSpec{}, fmt.Errorf("--client %q: NAME must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit", arg)
	}
	if strings.EqualFold(name, caBase) || strings.EqualFold(name, serverBase) {
		return clientSpec{}, fmt.Errorf("--client %q: NAME %q is reserved for the %s files", arg, name, strings.ToLower(name))
	}
	c := clientSpec{name: name}
	if !hasOrgs {
		return c, nil
	}
	c.orgs = strings.Split(orgList, ",")
	if slices.Contains(c.orgs, "") {
		return clientSpec{}, fmt.Errorf("--client %q: empty ORG", arg)
	}
	return c, nil
}

func (o *commandOptions) run(clients []clientSpec, stdout, stderr io.Writer) error {
	if err := os.MkdirAll(o.out, 0o700); err != nil {
		return fmt.Errorf("creating output directory: %w", err)
	}
	ca, caOutputs, err := o.loadOrCreateCA()
	if err != nil {
		return err
	}
	leafOutputs, err := o.issueLeaves(ca, clients)
	if err != nil {
		return err
	}
	if err := o.checkOverwrite(leafOutputs); err != nil {
		return err
	}

	if len(caOutputs) == 0 {
		fmt.Fprintf(stdout, "using the existing CA %s (%q, valid until %s)\n",
			o.path(caBase, ".crt"), ca.Cert.Subject.CommonName, formatTime(ca.Cert.NotAfter))
	}
	if time.Until(ca.Cert.NotAfter) < DefaultLeafValidity {
		fmt.Fprintf(stderr, "note: the CA expires on %s; certificates issued now expire with it\n", formatTime(ca.Cert.NotAfter))
	}
	// The CA goes first: if a later write fails, a rerun reuses it.
	for _, out := range append(caOutputs, leafOutputs...) {
		if err := WriteFile(out.path, out.data, out.mode); err != nil {
			return err
		}
		if out.note == "" {
			fmt.Fprintf(stdout, "wrote %s\n", out.path)
		} else {
			fmt.Fprintf(stdout, "wrote %s (%s)\n", out.path, out.note)
		}
	}
	return nil
}

// loadOrCreateCA reuses the CA in the output directory, or creates one and
// returns its files to write.
func (o *commandOptions) loadOrCreateCA() (*Pair, []output, error) {
	certPath, keyPath := o.path(caBase, ".crt"), o.path(caBase, ".key")
	certExists, err := exists(certPath)
	if err != nil {
		return nil, nil, err
	}
	keyExists, err := exists(keyPath)
	if err != nil {
		return nil, nil, err
	}
	switch {
	case certExists && keyExists:
		ca, err := Load(certPath, keyPath)
		if err != nil {
			return nil, nil, fmt.Errorf("reusing the existing CA: %w", err)
		}
		if !ca.Cert.IsCA {
			return nil, nil, fmt.Errorf("reusing the existing CA: %s is not a CA certificate", certPath)
		}
		if time.Now().After(ca.Cert.NotAfter) {
			return nil, nil, fmt.Errorf("the CA in %s expired on %s; delete %s and %s to create a new one",
				certPath, formatTime(ca.Cert.NotAfter), certPath, keyPath)
		}
		return ca, nil, nil
	case certExists || keyExists:
		present, missing := certPath, keyPath
		if keyExists {
			present, missing = keyPath, certPath
		}
		return nil, nil, fmt.Errorf("%s exists but %s does not: restore it to reuse the CA, or delete %s to create a new CA",
			present, missing, present)
	}
	ca, err := NewCA(DevCAName)
	if err != nil {
		return nil, nil, err
	}
	return ca, []output{
		{path: certPath, data: ca.CertPEM, mode: CertFileMode,
			note: fmt.Sprintf("CA %q, valid until %s", ca.Cert.Subject.CommonName, formatTime(ca.Cert.NotAfter))},
		{path: keyPath, data: ca.KeyPEM, mode: KeyFileMode,
			note: "CA key: keep it private; it issues more client certificates later"},
	}, nil
}

func (o *commandOptions) issueLeaves(ca *Pair, clients []clientSpec) ([]output, error) {
	var outs []output
	if o.server {
		names := dedupe(append(slices.Clone(o.serverNames), DefaultServerNames()...))
		server, err := ca.IssueServer(names)
		if err != nil {
			return nil, err
		}
		outs = append(outs,
			output{path: o.path(serverBase, ".crt"), data: server.CertPEM, mode: CertFileMode,
				note: fmt.Sprintf("server certificate for %s, valid until %s", strings.Join(names, ", "), formatTime(server.Cert.NotAfter))},
			output{path: o.path(serverBase, ".key"), data: server.KeyPEM, mode: KeyFileMode})
	}
	for _, c := range clients {
		client, err := ca.IssueClient(c.name, c.orgs)
		if err != nil {
			return nil, err
		}
		outs = append(outs,
			output{path: o.path(c.name, ".crt"), data: client.CertPEM, mode: CertFileMode,
				note: fmt.Sprintf("client certificate for user %s, %s, valid until %s", c.name, describeGroups(c.orgs), formatTime(client.Cert.NotAfter))},
			output{path: o.path(c.name, ".key"), data: client.KeyPEM, mode: KeyFileMode})
	}
	return outs, nil
}

// checkOverwrite refuses, before anything is written, to replace files
// unless --force is given.
func (o *commandOptions) checkOverwrite(outs []output) error {
	if o.force {
		return nil
	}
	var existing []string
	for _, out := range outs {
		ok, err := exists(out.path)
		if err != nil {
			return err
		}
		if ok {
			existing = append(existing, out.path)
		}
	}
	if len(existing) > 0 {
		return fmt.Errorf("refusing to overwrite existing files (use --force to replace them): %s", strings.Join(existing, ", "))
	}
	return nil
}

func (o *commandOptions) path(base, ext string) string {
	return filepath.Join(o.out, base+ext)
}

func exists(path string) (bool, error) {
	_, err := os.Lstat(path)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	default:
		return false, err
	}
}

func dedupe(names []string) []string {
	var out []string
	for _, n := range names {
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

func describeGroups(orgs []string) string {
	if len(orgs) == 0 {
		return "no groups"
	}
	return "groups " + strings.Join(orgs, ", ")
}

func formatTime(t time.Time) string {
	return t.UTC().Format(time.RFC3339)
}
