package main

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/replicasd/replicasd/src/client"
)

// explain turns an error into a message for people, saying what to do
// next, and the exit code (see exitcodes.go).
func explain(err error, t target, now time.Time) (string, int) {
	if ue, ok := errors.AsType[*usageError](err); ok {
		return ue.msg, exitUsage
	}
	if ce, ok := errors.AsType[*currentReplicasError](err); ok {
		return "refusing to scale: " + ce.Error(), exitRefused
	}
	if apiErr, ok := errors.AsType[*client.APIError](err); ok {
		return explainAPIError(apiErr), exitCodeForStatus(apiErr.StatusCode)
	}
	if connErr, ok := errors.AsType[*client.ConnectionError](err); ok {
		return explainConnection(connErr, t, now), exitConnection
	}
	if errors.Is(err, context.Canceled) {
		return "interrupted", exitRefused
	}
	return err.Error(), exitRefused
}

func exitCodeForStatus(status int) int {
	if status >= 500 {
		return exitServerError
	}
	return exitRefused
}

// explainAPIError words the server's answer; the server's own message says
// what was wrong, this says what kind of problem it is.
func explainAPIError(e *client.APIError) string {
	msg := e.Message
	retry := ""
	if e.RetryAfter > 0 {
		retry = fmt.Sprintf("; try again in %s", e.RetryAfter.Round(time.Second))
	}
	switch e.StatusCode {
	case http.StatusBadRequest:
		return "invalid request: " + msg
	case http.StatusForbidden:
		return "forbidden: " + msg
	case http.StatusNotFound:
		return "not found: " + msg
	case http.StatusConflict:
		return "conflict: " + msg + "; run again"
	case http.StatusPreconditionFailed:
		return "conflict: the deployment changed since you read it, so nothing was written; run again " +
			"(with --if-match, first read the current resourceVersion with replicactl get -o json) (server: " + msg + ")"
	case http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType, http.StatusMethodNotAllowed:
		return "the server refused the request: " + msg + " (is --server a replicasd of a compatible version?)"
	case http.StatusTooManyRequests:
		return "too many requests from your identity: " + msg + retry
	case http.StatusInternalServerError:
		return "server error: " + msg + " (the server's operator can find details in its log)"
	case http.StatusBadGateway:
		return "the Kubernetes API failed behind the server: " + msg
	case http.StatusServiceUnavailable:
		return "the server is not ready: " + msg + retry
	case http.StatusGatewayTimeout:
		return "timed out: " + msg
	}
	return fmt.Sprintf("the server answered %d %s: %s", e.StatusCode, http.StatusText(e.StatusCode), msg)
}

// explainConnection says why no answer came, using the local certificate to
// be precise about dates and usages.
func explainConnection(e *client.ConnectionError, t target, now time.Time) string {
	server := e.Server
	cert := e.ClientCert
	certRef := "your certificate"
	if t.cert != "" {
		certRef = fmt.Sprintf("your certificate %s", t.cert)
	}
	// A certificate past its dates explains any refusal, including a
	// connection reset that swallowed the server's alert.
	if cert != nil && refusal(e.Kind) {
		if now.After(cert.NotAfter) {
			return fmt.Sprintf("%s expired on %s: the server refuses it; get a new one (e.g. replicasd certs --out DIR --server=false --client %s) and pass it with --cert and --key",
				certRef, formatDate(cert.NotAfter), cert.Subject.CommonName)
		}
		if now.Before(cert.NotBefore) {
			return fmt.Sprintf("%s is not valid before %s: the server refuses it; check this machine's clock, or wait", certRef, formatDate(cert.NotBefore))
		}
	}
	switch e.Kind {
	case client.KindUnreachable:
		return fmt.Sprintf("the server could not be reached at %s: %s (check --server, and that replicasd is running and listening there)", server, cause(e.Err))
	case client.KindTimeout:
		return fmt.Sprintf("the server at %s did not answer in time (check --server and the network, or raise --request-timeout): %s", server, cause(e.Err))
	case client.KindClosed:
		return fmt.Sprintf("the server at %s closed the connection without answering: %s (if this repeats, check that --server is replicasd's API port and that %s is signed by the server's client CA)",
			server, cause(e.Err), certRef)
	case client.KindNotHTTPS:
		return fmt.Sprintf("the server at %s answered in plain HTTP, not HTTPS: check that --server is replicasd's mTLS API port (default 8443), not its ops port", server)
	case client.KindServerCertUntrusted:
		issuer := ""
		if ua, ok := errors.AsType[x509.UnknownAuthorityError](e.Err); ok && ua.Cert != nil {
			issuer = fmt.Sprintf(" (it is issued by %q)", ua.Cert.Issuer.CommonName)
		}
		if t.ca == "" {
			return fmt.Sprintf("server certificate not trusted: it is not signed by a CA in the system's trust store%s; pass the server's CA with --ca", issuer)
		}
		return fmt.Sprintf("server certificate not trusted: it is not signed by the CA in %s%s; check --ca", t.ca, issuer)
	case client.KindServerNameMismatch:
		detail := cause(e.Err)
		if he, ok := errors.AsType[x509.HostnameError](e.Err); ok {
			detail = he.Error()
		}
		return fmt.Sprintf("server certificate not valid for %s: %s; use a --server host name the certificate covers", server, detail)
	case client.KindServerCertInvalid:
		if ci, ok := errors.AsType[x509.CertificateInvalidError](e.Err); ok && ci.Reason == x509.Expired && ci.Cert != nil {
			return fmt.Sprintf("the server's certificate expired on %s: its operator must renew it (or check this machine's clock)", formatDate(ci.Cert.NotAfter))
		}
		return fmt.Sprintf("server certificate invalid: %s", cause(e.Err))
	case client.KindClientCertRequired:
		return "the server requires a client certificate and got none: check --cert and --key"
	case client.KindClientCertUnknownCA:
		issuer := ""
		if cert != nil {
			issuer = fmt.Sprintf(" (it is issued by %q)", cert.Issuer.CommonName)
		}
		return fmt.Sprintf("the server refused your certificate: it is not signed by the server's client CA%s; check --cert and the server's --client-ca-file", issuer)
	case client.KindClientCertExpired:
		return "the server says your certificate expired, but by this machine's clock it has not: check the clocks of both machines"
	case client.KindClientCertRejected:
		if cert != nil && !canAuthenticateClients(cert) {
			return fmt.Sprintf("the server refused your certificate: %s lacks the clientAuth extended key usage; use a client certificate", certRef)
		}
		return fmt.Sprintf("the server refused your certificate (%s): it must be a client certificate (extended key usage clientAuth) signed by the server's client CA; check --cert", cause(e.Err))
	case client.KindTLS:
		return fmt.Sprintf("the TLS handshake with %s failed: %s (the server may require TLS 1.3, or --server may not be replicasd)", server, cause(e.Err))
	}
	return fmt.Sprintf("the request to %s failed: %s", server, cause(e.Err))
}

// refusal reports kinds that can mean the server refused the client's
// certificate.
func refusal(k client.Kind) bool {
	return slices.Contains([]client.Kind{
		client.KindClientCertExpired, client.KindClientCertRejected, client.KindClientCertUnknownCA, client.KindClosed,
	}, k)
}

// canAuthenticateClients reports whether a certificate may be used as a TLS
// client certificate (no extended key usage means any).
func canAuthenticateClients(cert *x509.Certificate) bool {
	if len(cert.ExtKeyUsage) == 0 && len(cert.UnknownExtKeyUsage) == 0 {
		return true
	}
	return slices.Contains(cert.ExtKeyUsage, x509.ExtKeyUsageClientAuth) || slices.Contains(cert.ExtKeyUsage, x509.ExtKeyUsageAny)
}

// cause strips the request description (Get "https://…": ) the transport
// puts in front of the reason.
func cause(err error) string {
	if ue, ok := errors.AsType[*url.Error](err); ok {
		return ue.Err.Error()
	}
	return strings.TrimSpace(err.Error())
}
