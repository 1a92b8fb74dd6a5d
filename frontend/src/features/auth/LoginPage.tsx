import { Alert, Button, Center, Paper, PasswordInput, Stack, Text, TextInput, Title } from "@mantine/core";
import { useMutation } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Navigate, useSearchParams } from "react-router-dom";

import { useSession } from "../../app/SessionContext";
import { saveSession } from "../../services/api/session";
import { login } from "./login";

/** Only same-site paths are followed after login (no open redirect); by default, the dashboard. */
export function safeNext(next: string | null): string {
  return next && next.startsWith("/") && !next.startsWith("//") && !next.startsWith("/login") ? next : "/";
}

export function LoginPage() {
  const session = useSession();
  const [params] = useSearchParams();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [missing, setMissing] = useState(false);
  const mutation = useMutation({ mutationFn: () => login(email.trim(), password), onSuccess: saveSession });

  if (session) return <Navigate to={safeNext(params.get("next"))} replace />;

  function onSubmit(e: FormEvent) {
    e.preventDefault();
    setMissing(!email.trim() || !password);
    if (email.trim() && password) mutation.mutate();
  }
  const expired = params.get("expired") === "1";

  return (
    <Center component="main" mih="100vh" bg="var(--mantine-color-default-hover)">
      <Paper withBorder shadow="sm" p="xl" w={380}>
        <form onSubmit={onSubmit} aria-label="sign in" noValidate>
          <Stack>
            <div>
              <Title order={1} size="h2">
                iotcloud console
              </Title>
              <Text c="dimmed" size="sm">
                Sign in with your tenant user
              </Text>
            </div>
            {expired && !mutation.error && (
              <Alert color="yellow" role="status">
                Your session ended; sign in again.
              </Alert>
            )}
            <TextInput
              label="E-mail"
              type="email"
              autoComplete="username"
              value={email}
              onChange={(e) => setEmail(e.currentTarget.value)}
            />
            <PasswordInput
              label="Password"
              autoComplete="current-password"
              value={password}
              onChange={(e) => setPassword(e.currentTarget.value)}
            />
            {(mutation.error || missing) && (
              <Alert color="red" role="alert">
                {missing ? "enter your e-mail and password" : mutation.error?.message}
              </Alert>
            )}
            <Button type="submit" loading={mutation.isPending}>
              Sign in
            </Button>
          </Stack>
        </form>
      </Paper>
    </Center>
  );
}
