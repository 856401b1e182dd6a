vcl 4.1;

# The benchmark's own minimal VCL, used only while psychly/varnish/psychly.vcl does not exist:
# anonymous public pages cached, everything with a session passed to gunicorn.
backend default {
    .host = "127.0.0.1";
    .port = "8000";
}

sub vcl_recv {
    if (req.url ~ "^/(admin|review)/" || req.http.Cookie ~ "sessionid=") {
        return (pass);
    }
    unset req.http.Cookie;
    return (hash);
}

sub vcl_backend_response {
    if (beresp.http.Set-Cookie) {
        set beresp.uncacheable = true;
        return (deliver);
    }
    # Whatever Cache-Control says: the benchmark measures serving a stored copy.
    set beresp.ttl = 60s;
    return (deliver);
}
