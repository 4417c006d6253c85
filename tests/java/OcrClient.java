// From ../shared/seed/README.zh.md, "## Java 调用示例" / "### 单个识别", unchanged except:
//  - `import java.net.URI;` added: the seed calls URI.create(...) without importing it, which javac refuses
//    (java.net.http.* does not include java.net.URI).
// At run time tests/test_seed_java_clients.py replaces "http://localhost:8000" with the live test server's
// URL before compiling, and runs main() in a folder holding test.jpg. The multipart body is the seed's own,
// malformed as it is: lang and use_angle_cls end up inside the file part, after the image's bytes.
import java.io.*;
import java.net.URI;
import java.net.http.*;
import java.nio.file.Path;
import java.nio.file.Files;

public class OcrClient {

    private static final String API_URL = "http://localhost:8000";

    /**
     * 识别单张图片
     */
    public static String recognizeImage(String imagePath) throws Exception {
        HttpClient client = HttpClient.newHttpClient();

        // 读取图片文件
        byte[] fileContent = Files.readAllBytes(Path.of(imagePath));

        // 构建 multipart 请求
        String boundary = "----WebKitFormBoundary" + System.currentTimeMillis();
        StringBuilder requestBody = new StringBuilder();

        // 添加文件
        requestBody.append("--").append(boundary).append("\r\n");
        requestBody.append("Content-Disposition: form-data; name=\"file\"; filename=\"")
                  .append(new File(imagePath).getName()).append("\"\r\n");
        requestBody.append("Content-Type: image/jpeg\r\n\r\n");

        byte[] requestBodyBytes = getMultipartBytes(
            requestBody.toString(),
            fileContent,
            "\r\nlang=ch\r\nuse_angle_cls=true\r\n--" + boundary + "--\r\n"
        );

        HttpRequest request = HttpRequest.newBuilder()
            .uri(URI.create(API_URL + "/api/ocr/recognize"))
            .header("Content-Type", "multipart/form-data; boundary=" + boundary)
            .POST(HttpRequest.BodyPublishers.ofByteArray(requestBodyBytes))
            .build();

        HttpResponse<String> response = client.send(request,
            HttpResponse.BodyHandlers.ofString());

        return response.body();
    }

    private static byte[] getMultipartBytes(String header, byte[] fileContent, String footer)
            throws IOException {
        ByteArrayOutputStream baos = new ByteArrayOutputStream();
        baos.write(header.getBytes());
        baos.write(fileContent);
        baos.write(footer.getBytes());
        return baos.toByteArray();
    }

    public static void main(String[] args) {
        try {
            String result = recognizeImage("test.jpg");
            System.out.println("识别结果: " + result);
        } catch (Exception e) {
            e.printStackTrace();
        }
    }
}
