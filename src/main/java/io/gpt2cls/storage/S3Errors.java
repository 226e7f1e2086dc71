package io.gpt2cls.storage;

import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.util.Locale;

import javax.net.ssl.SSLException;

import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * Turns what the SDK throws into a {@link StorageException} whose message names the location, says
 * what went wrong in words, and what to check. The SDK's exception stays attached as the cause.
 */
final class S3Errors {

    /** What the store was doing, in words and as the IAM action a policy must allow. */
    enum Action {
        LIST("list", "s3:ListBucket"),
        READ("read", "s3:GetObject"),
        WRITE("write", "s3:PutObject"),
        DELETE("delete", "s3:DeleteObject");

        final String verb;
        final String permission;

        Action(String verb, String permission) {
            this.verb = verb;
            this.permission = permission;
        }
    }

    /** "the S3 endpoint http://127.0.0.1:9000" or "S3 in eu-west-1". */
    private final String endpoint;
    /** Where the endpoint came from, for the hint: the setting or the SDK's environment variables. */
    private final String endpointSetting;
    private final int maxAttempts;

    S3Errors(String endpoint, String endpointSetting, int maxAttempts) {
        this.endpoint = endpoint;
        this.endpointSetting = endpointSetting;
        this.maxAttempts = maxAttempts;
    }

    StorageException translate(Action action, Location where, Throwable thrown) {
        SdkException e = sdkException(thrown);
        if (e instanceof S3Exception s3) {
            AwsErrorDetails details = s3.awsErrorDetails();
            return rejected(action, where, details == null ? null : details.errorCode(), s3.statusCode(),
                    details == null ? null : details.errorMessage(), thrown);
        }
        if (e != null && isMissingCredentials(e)) {
            return new StorageException("no AWS credentials found to " + action.verb + " " + where
                    + "; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, or run with an IAM role", thrown);
        }
        String network = networkReason(thrown);
        if (network != null) {
            return new StorageUnavailableException("cannot reach " + endpoint + " for " + where + ": " + network + "; check "
                    + endpointSetting + " and the network (proxy, VPC endpoint or NAT)", thrown);
        }
        String detail = e != null ? e.getMessage() : String.valueOf(thrown);
        String message = "could not " + action.verb + " " + where + " on " + endpoint + ": " + detail;
        // what the SDK itself retries (I/O errors mid-transfer) has failed every attempt, but may pass later
        return e != null && e.retryable() ? new StorageUnavailableException(message, thrown) : new StorageException(message, thrown);
    }

    /**
     * S3 (or the S3-compatible server) answered with an error: {@code code} as in S3's error responses.
     * A server error or throttling, after the SDK's retries, is a {@link StorageUnavailableException}.
     */
    StorageException rejected(Action action, Location where, String code, int status, String detail, Throwable cause) {
        String message = serviceMessage(action, where, code == null ? "" : code, status, detail);
        return isTemporary(code == null ? "" : code, status) ? new StorageUnavailableException(message, cause)
                : new StorageException(message, cause);
    }

    private static boolean isTemporary(String code, int status) {
        // not 501 NotImplemented: a server without a feature (conditional writes) will not grow it by a retry
        return status == 500 || status == 502 || status == 503 || status == 504 || status == 429 || code.equals("SlowDown");
    }

    private String serviceMessage(Action action, Location where, String code, int status, String message) {
        String bucket = where.bucket();
        switch (code) {
            case "NoSuchBucket":
                return "bucket '" + bucket + "' does not exist on " + endpoint + " (" + where + "); check the bucket name"
                        + " in the location, and " + endpointSetting + " and AWS_REGION";
            case "InvalidAccessKeyId":
                return "the access key is not known to " + endpoint + " (while trying to " + action.verb + " " + where
                        + "); check AWS_ACCESS_KEY_ID or AWS_PROFILE";
            case "SignatureDoesNotMatch":
                return "the secret key does not match the access key (while trying to " + action.verb + " " + where
                        + "); check AWS_SECRET_ACCESS_KEY or AWS_PROFILE";
            case "ExpiredToken", "InvalidToken", "TokenRefreshRequired":
                return "the session credentials have expired or are invalid (while trying to " + action.verb + " " + where
                        + "); refresh them (aws sso login, a new session token)";
            case "PermanentRedirect", "AuthorizationHeaderMalformed", "IllegalLocationConstraintException":
                return "bucket '" + bucket + "' is not in the region the request was signed for (" + where
                        + "); set AWS_REGION to the bucket's region";
            default:
                break;
        }
        if (status == 403) {
            return "access denied: cannot " + action.verb + " " + where + " (" + code + "); check that the credentials in use"
                    + " (AWS_PROFILE, AWS_ACCESS_KEY_ID or the function's role) allow " + action.permission + " there";
        }
        if (isTemporary(code, status)) {
            return "S3 kept failing (" + describe(code, status) + ") after " + maxAttempts + " attempts to " + action.verb
                    + " " + where + "; try again later, or raise gpt2cls.store.s3.max-attempts";
        }
        String detail = message == null || message.isBlank() ? "" : ": " + message;
        return endpoint + " refused to " + action.verb + " " + where + " (" + describe(code, status) + ")" + detail;
    }

    private static String describe(String code, int status) {
        return code.isEmpty() ? "HTTP " + status : code + ", HTTP " + status;
    }

    private static SdkException sdkException(Throwable thrown) {
        for (Throwable t = thrown; t != null; t = t.getCause()) {
            if (t instanceof SdkException sdk) {
                return sdk;
            }
        }
        return null;
    }

    private static boolean isMissingCredentials(SdkException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            String message = t.getMessage();
            if (t instanceof SdkClientException && message != null && message.startsWith("Unable to load credentials")) {
                return true;
            }
        }
        return false;
    }

    /** The network failure below {@code thrown}, in words; null when it is not one. */
    static String networkReason(Throwable thrown) {
        for (Throwable t = thrown; t != null; t = t.getCause()) {
            if (t instanceof ConnectException) {
                String message = String.valueOf(t.getMessage()).toLowerCase(Locale.ROOT);
                return message.contains("timed out") ? "connection timed out" : "connection refused";
            }
            if (t instanceof UnknownHostException) {
                return "unknown host " + t.getMessage();
            }
            if (t instanceof NoRouteToHostException) {
                return "no route to host";
            }
            if (t instanceof SocketTimeoutException || t.getClass().getSimpleName().equals("ConnectTimeoutException")) {
                return "timed out";
            }
            if (t instanceof SSLException) {
                return "TLS handshake failed (" + t.getMessage() + ")";
            }
            if (t.getClass().getSimpleName().equals("NoHttpResponseException")
                    || t instanceof java.net.SocketException && String.valueOf(t.getMessage()).contains("reset")) {
                return "the server closed the connection";
            }
        }
        return null;
    }
}
