import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * Creates a bucket and uploads every file under a directory into it (key = the file's relative path),
 * with the AWS SDK's standard environment (AWS_ENDPOINT_URL_S3, AWS_REGION, credentials), path-style:
 * how infra/scripts/lambda-image-check.sh fills S3Proxy, as a user's `aws s3 cp --recursive` would.
 *
 * <pre>java -cp 'target/lib/*' infra/scripts/S3Upload.java DIR BUCKET</pre>
 */
public class S3Upload {

    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: java -cp 'target/lib/*' S3Upload.java DIR BUCKET");
            System.exit(2);
        }
        Path dir = Path.of(args[0]);
        String bucket = args[1];
        try (S3Client s3 = S3Client.builder().forcePathStyle(true).build(); Stream<Path> walk = Files.walk(dir)) {
            s3.createBucket(b -> b.bucket(bucket));
            List<Path> files = walk.filter(Files::isRegularFile).sorted().toList();
            for (Path file : files) {
                String key = dir.relativize(file).toString();
                s3.putObject(b -> b.bucket(bucket).key(key), RequestBody.fromFile(file));
            }
            System.out.printf("uploaded %d files to s3://%s/%n", files.size(), bucket);
        }
    }
}
