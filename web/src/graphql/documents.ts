import { gql, type TypedDocumentNode } from "@apollo/client";
import type { IssuedTokens } from "../auth/tokens";

export interface Me {
  id: string;
  email: string;
  name: string | null;
  role: "USER" | "ADMIN";
  emailVerified: boolean;
  createdAt: string;
}

export interface SessionInfo {
  id: string;
  createdAt: string;
  lastUsedAt: string;
  userAgent: string | null;
  ip: string | null;
  current: boolean;
}


const ME_FIELDS = gql`
  fragment MeFields on User {
    id
    email
    name
    role
    emailVerified
    createdAt
  }
`;

export const ME: TypedDocumentNode<{ me: (Me & { pendingEmail: string | null }) | null }> = gql`
  query Me {
    me {
      ...MeFields
      pendingEmail
    }
  }
  ${ME_FIELDS}
`;

export const REGISTER: TypedDocumentNode<
  { register: IssuedTokens },
  { input: { email: string; password: string; name?: string | null; captchaToken?: string }; withRefreshToken: boolean }
> = gql`
  mutation Register($input: RegisterInput!, $withRefreshToken: Boolean!) {
    register(input: $input) {
      accessToken
      expiresIn
      refreshToken @include(if: $withRefreshToken)
    }
  }
`;

export const LOGIN: TypedDocumentNode<{ login: IssuedTokens }, { input: { email: string; password: string; captchaToken?: string }; withRefreshToken: boolean }> = gql`
  mutation Login($input: LoginInput!, $withRefreshToken: Boolean!) {
    login(input: $input) {
      accessToken
      expiresIn
      refreshToken @include(if: $withRefreshToken)
    }
  }
`;

/** Without a variable the service reads the cookie. */
export const LOGOUT: TypedDocumentNode<{ logout: boolean }, { refreshToken?: string | null }> = gql`
  mutation Logout($refreshToken: String) {
    logout(refreshToken: $refreshToken)
  }
`;

export const LOGOUT_ALL: TypedDocumentNode<{ logoutAll: boolean }> = gql`
  mutation LogoutAll {
    logoutAll
  }
`;

export const MY_SESSIONS: TypedDocumentNode<{ mySessions: SessionInfo[] }> = gql`
  query MySessions {
    mySessions {
      id
      createdAt
      lastUsedAt
      userAgent
      ip
      current
    }
  }
`;

export const REVOKE_SESSION: TypedDocumentNode<{ revokeSession: boolean }, { id: string }> = gql`
  mutation RevokeSession($id: ID!) {
    revokeSession(id: $id)
  }
`;

export const UPDATE_PROFILE: TypedDocumentNode<{ updateProfile: Pick<Me, "id" | "name"> }, { input: { name: string | null } }> = gql`
  mutation UpdateProfile($input: UpdateProfileInput!) {
    updateProfile(input: $input) {
      id
      name
    }
  }
`;

export const REQUEST_EMAIL_CHANGE: TypedDocumentNode<{ requestEmailChange: boolean }, { newEmail: string; password: string }> = gql`
  mutation RequestEmailChange($newEmail: String!, $password: String!) {
    requestEmailChange(newEmail: $newEmail, password: $password)
  }
`;

export const DELETE_ACCOUNT: TypedDocumentNode<{ deleteAccount: boolean }, { password: string }> = gql`
  mutation DeleteAccount($password: String!) {
    deleteAccount(password: $password)
  }
`;

export const CHANGE_PASSWORD: TypedDocumentNode<{ changePassword: boolean }, { currentPassword: string; newPassword: string }> = gql`
  mutation ChangePassword($currentPassword: String!, $newPassword: String!) {
    changePassword(currentPassword: $currentPassword, newPassword: $newPassword)
  }
`;

export const REQUEST_PASSWORD_RESET: TypedDocumentNode<{ requestPasswordReset: boolean }, { email: string; captchaToken?: string }> = gql`
  mutation RequestPasswordReset($email: String!, $captchaToken: String) {
    requestPasswordReset(email: $email, captchaToken: $captchaToken)
  }
`;

export const RESET_PASSWORD: TypedDocumentNode<{ resetPassword: boolean }, { token: string; newPassword: string }> = gql`
  mutation ResetPassword($token: String!, $newPassword: String!) {
    resetPassword(token: $token, newPassword: $newPassword)
  }
`;

export const REVERT_EMAIL_CHANGE: TypedDocumentNode<{ revertEmailChange: boolean }, { token: string; newPassword: string }> = gql`
  mutation RevertEmailChange($token: String!, $newPassword: String!) {
    revertEmailChange(token: $token, newPassword: $newPassword)
  }
`;

export const CANCEL_EMAIL_CHANGE: TypedDocumentNode<{ cancelEmailChange: boolean }> = gql`
  mutation CancelEmailChange {
    cancelEmailChange
  }
`;

export const REQUEST_EMAIL_VERIFICATION: TypedDocumentNode<{ requestEmailVerification: boolean }> = gql`
  mutation RequestEmailVerification {
    requestEmailVerification
  }
`;

export const VERIFY_EMAIL: TypedDocumentNode<{ verifyEmail: Me }, { token: string }> = gql`
  mutation VerifyEmail($token: String!) {
    verifyEmail(token: $token) {
      ...MeFields
    }
  }
  ${ME_FIELDS}
`;
